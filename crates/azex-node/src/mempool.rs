//! The mempool: verified signed transactions waiting for a block.
//!
//! Admission (every rule gives a stable error code):
//! - `nonce_used`: the nonce is below the account's next committed nonce;
//! - `nonce_pending`: another transaction with this nonce is pending (the same transaction again
//!   is accepted idempotently);
//! - `nonce_too_far`: more than [`MempoolLimits::max_nonce_gap`] above the next committed nonce;
//! - `expired` / `expiry_too_far`: expiry in the past, or further ahead than allowed;
//! - `account_queue_full` / `mempool_full`: per-account and global count limits.
//!
//! Ordering (fair, documented in docs/node.md): a block takes transactions in arrival order,
//! an account's transactions in nonce order (a transaction whose predecessor nonce is missing
//! waits), and at most [`MempoolLimits::max_per_account_per_block`] per account per block, so
//! one busy account cannot fill blocks while others wait.

use alloy_primitives::{Address, B256};
use azex_client::{SignedTx, TxAck};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::oneshot;

/// The mempool's limits.
#[derive(Debug, Clone)]
pub struct MempoolLimits {
    /// Pending transactions in all (`mempool_full` beyond).
    pub max_total: usize,
    /// Pending transactions per account (`account_queue_full` beyond).
    pub max_per_account: usize,
    /// How far a nonce may be above the account's next committed nonce (`nonce_too_far`).
    pub max_nonce_gap: u64,
    /// Transactions per block.
    pub max_per_block: usize,
    /// Transactions per account per block.
    pub max_per_account_per_block: usize,
    /// How far ahead of now an expiry may be, seconds (`expiry_too_far`).
    pub max_expiry_secs: u64,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        Self {
            max_total: 200_000,
            max_per_account: 1_024,
            max_nonce_gap: 1_024,
            max_per_block: 20_000,
            max_per_account_per_block: 1_024,
            max_expiry_secs: 24 * 3600,
        }
    }
}

/// A waiter for a transaction's commitment.
pub(crate) type Waiter = oneshot::Sender<TxAck>;

/// A pending transaction.
pub(crate) struct Pending {
    /// Its signing hash.
    pub(crate) hash: B256,
    /// The verified signed transaction.
    pub(crate) signed: SignedTx,
    arrival: u64,
    /// Those to tell when it commits (or expires).
    pub(crate) waiters: Vec<Waiter>,
}

#[derive(Default)]
struct Account {
    /// Next nonce not yet taken into a block.
    next: u64,
    pending: BTreeMap<u64, Pending>,
}

/// Why a transaction was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    /// The stable error code (`nonce_used`, `expired`, …; see the module documentation).
    pub(crate) code: &'static str,
    /// A human-readable explanation.
    pub(crate) message: String,
}

fn reject(code: &'static str, message: String) -> Reject {
    Reject { code, message }
}

/// `expired` before `now`, `expiry_too_far` more than `max_secs` after it.
fn check_expiry(expiry: u64, now: u64, max_secs: u64) -> Result<(), Reject> {
    if expiry < now {
        return Err(reject(
            "expired",
            format!("expiry {expiry} is before now {now}"),
        ));
    }
    if expiry > now.saturating_add(max_secs) {
        return Err(reject(
            "expiry_too_far",
            format!("expiry {expiry} is more than {max_secs} s ahead"),
        ));
    }
    Ok(())
}

/// Whether the account (and the mempool, `full`) can take a new transaction with `nonce`:
/// not used, not pending, at most `max_nonce_gap` ahead, the account's queue and the mempool
/// not full.
fn check_room(acc: &Account, nonce: u64, limits: &MempoolLimits, full: bool) -> Result<(), Reject> {
    let (limit_total, limit_acc, gap) = (
        limits.max_total,
        limits.max_per_account,
        limits.max_nonce_gap,
    );
    if nonce < acc.next {
        return Err(reject(
            "nonce_used",
            format!(
                "nonce {nonce} is used; the account's next nonce is {}",
                acc.next
            ),
        ));
    }
    if acc.pending.contains_key(&nonce) {
        return Err(reject(
            "nonce_pending",
            format!("another transaction with nonce {nonce} is pending"),
        ));
    }
    if nonce - acc.next > gap {
        return Err(reject(
            "nonce_too_far",
            format!(
                "nonce {nonce} is more than {gap} above the next nonce {}",
                acc.next
            ),
        ));
    }
    if acc.pending.len() >= limit_acc {
        return Err(reject(
            "account_queue_full",
            format!("the account has {limit_acc} pending transactions"),
        ));
    }
    if full {
        return Err(reject(
            "mempool_full",
            format!("the mempool holds {limit_total} transactions"),
        ));
    }
    Ok(())
}

/// Pending transactions by account and nonce, in arrival order.
#[derive(Default)]
pub(crate) struct Mempool {
    /// Its limits.
    pub(crate) limits: MempoolLimits,
    accounts: HashMap<Address, Account>,
    /// Arrival order of every pending transaction: arrival → (account, nonce).
    queue: BTreeMap<u64, (Address, u64)>,
    by_hash: HashMap<B256, (Address, u64)>,
    seq: u64,
    total: usize,
}

impl Mempool {
    /// An empty mempool.
    pub(crate) fn new(limits: MempoolLimits) -> Self {
        Self {
            limits,
            ..Default::default()
        }
    }

    /// Number of pending transactions.
    pub(crate) fn len(&self) -> usize {
        self.total
    }

    /// Set an account's next nonce (start-up replay).
    pub(crate) fn set_next_nonce(&mut self, a: Address, n: u64) {
        self.accounts.entry(a).or_default().next = n;
    }

    /// (next nonce taken into blocks, next nonce after the pending ones).
    pub(crate) fn nonces(&self, a: Address) -> (u64, u64) {
        match self.accounts.get(&a) {
            None => (0, 0),
            Some(acc) => {
                let mut n = acc.next;
                while acc.pending.contains_key(&n) {
                    n += 1;
                }
                (acc.next, n)
            }
        }
    }

    /// Whether a transaction with signing hash `h` is pending.
    pub(crate) fn contains(&self, h: &B256) -> bool {
        self.by_hash.contains_key(h)
    }

    /// Admit a verified transaction (`hash` is its signing hash). `waiter` is told when it
    /// commits. Returns `Ok(true)` if it was new, `Ok(false)` if already pending.
    pub(crate) fn admit(
        &mut self,
        hash: B256,
        signed: SignedTx,
        now: u64,
        waiter: Option<Waiter>,
    ) -> Result<bool, Reject> {
        let user = signed.tx.user();
        let nonce = signed.nonce;
        check_expiry(signed.expiry, now, self.limits.max_expiry_secs)?;
        if let Some(&(a, n)) = self.by_hash.get(&hash) {
            // The same transaction again: one more waiter for it.
            if let Some(w) = waiter {
                if let Some(p) = self
                    .accounts
                    .get_mut(&a)
                    .and_then(|acc| acc.pending.get_mut(&n))
                {
                    p.waiters.push(w);
                }
            }
            return Ok(false);
        }
        let full = self.total >= self.limits.max_total;
        let acc = self.accounts.entry(user).or_default();
        check_room(acc, nonce, &self.limits, full)?;
        self.seq += 1;
        let arrival = self.seq;
        acc.pending.insert(
            nonce,
            Pending {
                hash,
                signed,
                arrival,
                waiters: waiter.into_iter().collect(),
            },
        );
        self.queue.insert(arrival, (user, nonce));
        self.by_hash.insert(hash, (user, nonce));
        self.total += 1;
        Ok(true)
    }

    fn remove(&mut self, a: Address, n: u64) -> Option<Pending> {
        let acc = self.accounts.get_mut(&a)?;
        let p = acc.pending.remove(&n)?;
        self.queue.remove(&p.arrival);
        self.by_hash.remove(&p.hash);
        self.total -= 1;
        Some(p)
    }

    /// Take the transactions of the next block (see the module docs for the order). Expired
    /// transactions are dropped and returned separately (their waiters are told).
    pub(crate) fn take_block(&mut self, now: u64) -> (Vec<Pending>, Vec<Pending>) {
        let mut out = Vec::new();
        let mut expired = Vec::new();
        let mut per_acc: HashMap<Address, usize> = HashMap::new();
        let max = self.limits.max_per_block;
        let cap = self.limits.max_per_account_per_block;
        // Walk arrivals in order; an account's later nonce may have arrived before its earlier
        // one, so an account whose head is not ready is skipped and revisited next block.
        let mut cursor = 0u64;
        while out.len() < max {
            let Some((&arrival, &(a, n))) = self.queue.range(cursor..).next() else {
                break;
            };
            cursor = arrival + 1;
            let next = self.accounts.get(&a).map(|x| x.next).unwrap_or(0);
            if n != next {
                continue;
            }
            // Take this account's ready run (consecutive nonces) in nonce order, up to its cap.
            let mut k = n;
            loop {
                if out.len() >= max || per_acc.get(&a).copied().unwrap_or(0) >= cap {
                    break;
                }
                let Some(p) = self.remove(a, k) else { break };
                if p.signed.expiry < now {
                    expired.push(p);
                    // The nonce was not used: the account waits for it again.
                    break;
                }
                *per_acc.entry(a).or_default() += 1;
                out.push(p);
                k += 1;
                if let Some(acc) = self.accounts.get_mut(&a) {
                    acc.next = k;
                }
            }
        }
        // Drop expired transactions that are stuck behind a gap as well.
        let stale: Vec<(Address, u64)> = self
            .queue
            .values()
            .copied()
            .filter(|(a, n)| {
                self.accounts
                    .get(a)
                    .and_then(|acc| acc.pending.get(n))
                    .map(|p| p.signed.expiry < now)
                    .unwrap_or(false)
            })
            .take(10_000)
            .collect();
        for (a, n) in stale {
            if let Some(p) = self.remove(a, n) {
                expired.push(p);
            }
        }
        (out, expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azex_client::Key;
    use azex_exchange::Tx;

    fn stx(k: &Key, nonce: u64, expiry: u64) -> (B256, SignedTx) {
        let s = k.sign(
            Tx::MintAzusd {
                user: k.address(),
                usdc: 1,
            },
            nonce,
            expiry,
            1,
        );
        (s.hash(), s)
    }

    #[test]
    fn nonces_order_and_fairness() {
        let mut m = Mempool::new(MempoolLimits {
            max_per_account_per_block: 2,
            ..Default::default()
        });
        let (a, b) = (Key::from_seed(1), Key::from_seed(2));
        // a's nonces arrive out of order; b sends 3.
        for n in [1, 0, 2] {
            let (h, s) = stx(&a, n, 100);
            assert!(m.admit(h, s, 10, None).unwrap());
        }
        for n in 0..3 {
            let (h, s) = stx(&b, n, 100);
            m.admit(h, s, 10, None).unwrap();
        }
        // Duplicate: idempotent; same nonce other content: refused; used nonce later.
        let (h, s) = stx(&b, 0, 100);
        assert!(!m.admit(h, s, 10, None).unwrap());
        let (h, s) = stx(&b, 0, 101);
        assert_eq!(m.admit(h, s, 10, None).unwrap_err().code, "nonce_pending");
        let (h, s) = stx(&b, 5000, 100);
        assert_eq!(m.admit(h, s, 10, None).unwrap_err().code, "nonce_too_far");
        let (h, s) = stx(&b, 7, 5);
        assert_eq!(m.admit(h, s, 10, None).unwrap_err().code, "expired");
        let (blk, exp) = m.take_block(10);
        assert!(exp.is_empty());
        let got: Vec<_> = blk
            .iter()
            .map(|p| (p.signed.tx.user() == a.address(), p.signed.nonce))
            .collect();
        // Cap 2 per account: a0, a1 then b0, b1.
        assert_eq!(got, vec![(true, 0), (true, 1), (false, 0), (false, 1)]);
        assert_eq!(m.nonces(a.address()), (2, 3));
        let (h, s) = stx(&a, 1, 100);
        assert_eq!(m.admit(h, s, 10, None).unwrap_err().code, "nonce_used");
        let (blk, _) = m.take_block(10);
        assert_eq!(blk.len(), 2);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn expired_are_dropped_and_limits_hold() {
        let mut m = Mempool::new(MempoolLimits {
            max_total: 3,
            max_per_account: 2,
            ..Default::default()
        });
        let a = Key::from_seed(3);
        let (h, s) = stx(&a, 0, 20);
        m.admit(h, s, 10, None).unwrap();
        let (h, s) = stx(&a, 1, 100);
        m.admit(h, s, 10, None).unwrap();
        let (h, s) = stx(&a, 2, 100);
        assert_eq!(
            m.admit(h, s, 10, None).unwrap_err().code,
            "account_queue_full"
        );
        let (blk, exp) = m.take_block(30);
        assert!(blk.is_empty());
        assert_eq!(exp.len(), 1);
        // nonce 1 waits for nonce 0 again.
        assert_eq!(m.nonces(a.address()), (0, 0));
        assert_eq!(m.len(), 1);
    }
}
