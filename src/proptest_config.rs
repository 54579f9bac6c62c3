//! The fixed-seed proptest configuration every property of the crate runs on (the kit's `config`, and
//! the crate's own unit tests, which run without the `testing` feature too).

use proptest::test_runner::{Config, RngSeed};

/// The seed the kit's properties use unless `PROPTEST_RNG_SEED` says otherwise (runs are
/// deterministic: a CI failure reproduces on every machine).
pub const DEFAULT_SEED: u64 = 0xB175_0001;

/// A proptest configuration for `cases` cases: a fixed seed (override with `PROPTEST_RNG_SEED`), no
/// failure-persistence files (the failure report carries a scenario file instead), and shrinking
/// bounded so that a failure is reported within seconds.
pub fn config(cases: u32) -> Config {
    let base = Config::default();
    let rng_seed = match base.rng_seed {
        RngSeed::Fixed(s) => RngSeed::Fixed(s),
        RngSeed::Random => RngSeed::Fixed(DEFAULT_SEED),
    };
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        base.cases
    } else {
        cases
    };
    Config {
        cases,
        rng_seed,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..base
    }
}
