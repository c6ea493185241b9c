//! Plain data types of the pool manager (v4's PoolKey, params and BalanceDelta).
//! The spot helper owns this file; the field names below are the contract other crates use.

use alloy_primitives::{Address, U256};

/// A token. Ordered: a pool's `currency0 < currency1`.
pub type Currency = Address;

/// Identifies a pool, as v4's PoolKey.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct PoolKey {
    /// The lower-sorted currency.
    pub currency0: Currency,
    /// The higher-sorted currency.
    pub currency1: Currency,
    /// LP fee in pips (1e-6), or `DYNAMIC_FEE_FLAG` (0x800000) for a dynamic-fee pool.
    pub fee: u32,
    /// Tick spacing: only multiples of it can bound positions (1..=32767).
    pub tick_spacing: i32,
    /// Hook address (zero = no hook).
    pub hooks: Address,
}

/// v4's ModifyLiquidityParams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModifyLiquidityParams {
    /// Position owner (v4 uses the caller).
    pub owner: Address,
    /// Lower tick of the range.
    pub tick_lower: i32,
    /// Upper tick of the range.
    pub tick_upper: i32,
    /// Liquidity to add (> 0) or remove (< 0); 0 collects fees.
    pub liquidity_delta: i128,
    /// Salt distinguishing positions of one owner on one range.
    pub salt: [u8; 32],
}

/// v4's SwapParams: negative `amount_specified` = exact input, positive = exact output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapParams {
    /// Swap token0 for token1 (price goes down) or the reverse.
    pub zero_for_one: bool,
    /// Negative = exact input of `|amount|`, positive = exact output.
    pub amount_specified: i128,
    /// The price the swap may not pass (below the current price for zero-for-one, above otherwise).
    pub sqrt_price_limit_x96: U256,
}

/// Token amounts from the caller's side: negative = the caller pays into the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BalanceDelta {
    /// Token0 amount (negative = the caller pays into the pool).
    pub amount0: i128,
    /// Token1 amount (negative = the caller pays into the pool).
    pub amount1: i128,
}

/// v4's PoolId: `keccak256(abi.encode(currency0, currency1, fee, tickSpacing, hooks))`.
pub type PoolId = alloy_primitives::B256;

impl PoolKey {
    /// v4's `PoolIdLibrary.toId`: keccak256 of the key's five ABI words (`fee` as `uint24`,
    /// `tick_spacing` as a sign-extended `int24`).
    pub fn to_id(&self) -> PoolId {
        let mut buf = [0u8; 160];
        buf[12..32].copy_from_slice(self.currency0.as_slice());
        buf[44..64].copy_from_slice(self.currency1.as_slice());
        buf[92..96].copy_from_slice(&(self.fee & 0xff_ffff).to_be_bytes());
        let fill = if self.tick_spacing < 0 { 0xff } else { 0 };
        buf[96..124].fill(fill);
        buf[124..128].copy_from_slice(&self.tick_spacing.to_be_bytes());
        buf[140..160].copy_from_slice(self.hooks.as_slice());
        alloy_primitives::keccak256(buf)
    }
}

impl BalanceDelta {
    /// The zero delta.
    pub const ZERO: Self = Self {
        amount0: 0,
        amount1: 0,
    };

    /// A delta from its two amounts.
    pub const fn new(amount0: i128, amount1: i128) -> Self {
        Self { amount0, amount1 }
    }

    /// Component-wise sum; `None` on `int128` overflow (v4 reverts with `SafeCastOverflow`).
    pub fn checked_add(self, other: Self) -> Option<Self> {
        Some(Self {
            amount0: self.amount0.checked_add(other.amount0)?,
            amount1: self.amount1.checked_add(other.amount1)?,
        })
    }
}

/// A salt (`bytes32`) from an unsigned integer, big-endian, as `bytes32(uint256(n))`.
pub fn salt_from_u64(n: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[24..].copy_from_slice(&n.to_be_bytes());
    s
}
