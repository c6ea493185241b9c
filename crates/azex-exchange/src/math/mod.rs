//! Pure functions: every formula of the protocol, with no state and no side effects.
//!
//! | rule | where |
//! |---|---|
//! | mark price, impact capacity, execution price (integral of the mark curve) | [`mark`] |
//! | funding rate from skew, funding index increments, funding owed | [`funding`] |
//! | net-exposure requirement, stress term, classic baseline | [`requirement`] |
//! | equity, margin tiers, leverage | [`margin`] |

pub mod funding;
pub mod margin;
pub mod mark;
pub mod requirement;
