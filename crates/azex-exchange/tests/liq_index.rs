//! The liquidation index against the engine's own exact rule, over random books and prices:
//! it never misses a liquidatable position, and it names (almost) nothing else.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)] // test data is built with plain casts

use azex_exchange::handlers::liquidation::is_liquidatable;
use azex_exchange::liq_index::LiqIndex;
use azex_exchange::testkit::{World, WorldSpec};
use azex_exchange::units::{QTY_ONE, USD_ONE, WAD};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn index_matches_the_engine(
        book in prop::collection::vec((any::<bool>(), 1u64..40, 6u64..40), 4..30),
        hours in 0u64..48,
        moves in prop::collection::vec(-30i64..30, 1..12),
    ) {
        let mut w = World::new(&WorldSpec { users: 4, markets: vec![(1, 2_000 * WAD, 20_000_000 * USD_ONE)], lp_capital: 20_000_000 * USD_ONE, ..WorldSpec::default() }).unwrap();
        for (i, (long, tokens, lev)) in book.iter().enumerate() {
            let q = (*tokens as i128) * QTY_ONE as i128 / 4;
            let notional = q as u128 / QTY_ONE * 2_000 * USD_ONE;
            let margin = (notional / *lev as u128).max(USD_ONE) + notional / 400;
            let _ = w.open(2 + (i as u64 % 3), 0, if *long { q } else { -q }, margin);
        }
        // Funding accrues for a while (the index must follow it without re-indexing).
        w.block_time = 3_600;
        w.advance(hours).unwrap();
        let ix = LiqIndex::build(&w.state).unwrap();
        let m = &w.state.markets[0];
        let params = &w.state.market_params[0];
        let base = m.prices.risk;
        for mv in moves {
            let price = (base as i128 + base as i128 / 1_000 * mv as i128) as u128;
            let cands: std::collections::BTreeSet<u64> = ix.candidates_at(&w.state, 0, price).unwrap().into_iter().collect();
            let mut exact = 0;
            for p in w.state.positions.values() {
                let side = m.side(p.is_long());
                if is_liquidatable(params, side, p, price).unwrap() {
                    exact += 1;
                    prop_assert!(cands.contains(&p.id), "index missed position {} at price {}", p.id, price);
                }
            }
            // Conservative rounding may add a position sitting exactly on its threshold, no more.
            prop_assert!(cands.len() <= exact + 2, "index named {} candidates for {} liquidatable", cands.len(), exact);
        }
    }
}
