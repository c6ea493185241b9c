//! The search: an archive of the best sequences per class of finding, mutated and spliced.
//!
//! - **Archive** (MAP-elites style): one niche per violation class (`deficit`, `coalition_gain`,
//!   …), one for runs without any violation (`clean`) and one for all runs (`any`); each keeps
//!   its [`NICHE_SIZE`] fittest sequences. Fitness = coalition gain + honest LP loss + deficits
//!   (azUSD units, [`Outcome::fitness`]). A niche per class keeps the search from collapsing
//!   onto the first class it finds.
//! - **Step**: with probability 15 % (or while the archive is empty) a fresh random sequence of
//!   4–40 moves; otherwise a parent from a random niche (biased to its best), mutated 1–3 times
//!   (tweak a move, insert, delete, swap, duplicate a segment) and, one time in six, spliced
//!   with another archived sequence.
//! - **Minimisation**: at the end, the best sequence of every violation class is shrunk by
//!   delta debugging (drop chunks of moves while the class still shows), within a run budget.
//!
//! Deterministic: one `ChaCha8Rng` seeded with the seed, single-threaded; the engine is
//! deterministic. Same seed and iterations → same report.

use crate::action::{Action, Genome};
use crate::run::{run, Base, Outcome};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Sequences kept per niche.
pub const NICHE_SIZE: usize = 6;

/// How to search.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// Seed of the search's random generator (printed first when `verbose`).
    pub seed: u64,
    /// Runs of the search proper (minimisation runs come on top).
    pub iterations: u64,
    /// Longest sequence (moves).
    pub max_len: usize,
    /// Runs allowed to minimise each class's best sequence.
    pub minimize_runs: usize,
    /// Print progress to stderr.
    pub verbose: bool,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            seed: 1,
            iterations: 1_000,
            max_len: 60,
            minimize_runs: 400,
            verbose: false,
        }
    }
}

/// The best sequence found for one class.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Violation class (`deficit`, `coalition_gain`, …) or `clean` (the fittest run without
    /// any violation).
    pub kind: String,
    /// The (minimised) sequence.
    pub genome: Genome,
    /// Its run.
    pub outcome: Outcome,
    /// Iteration at which the class was first seen.
    pub first_seen: u64,
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct SearchReport {
    /// The seed searched.
    pub seed: u64,
    /// Iterations of the search proper.
    pub iterations: u64,
    /// Runs made in all (search and minimisation).
    pub runs: u64,
    /// Best (minimised) sequence per violation class, sorted by class.
    pub findings: Vec<Finding>,
    /// The fittest run without violations.
    pub best_clean: Option<Finding>,
}

impl SearchReport {
    /// A one-line-per-class summary.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "seed {} · {} iterations · {} runs · {} violation classes\n",
            self.seed,
            self.iterations,
            self.runs,
            self.findings.len()
        );
        for f in self.findings.iter().chain(self.best_clean.iter()) {
            let o = &f.outcome;
            s += &format!(
                "  {:<15} first at {:>6}, {:>3} moves: coalition gain ${:.2}, honest LP loss ${:.2} ({:.3} %), deficits ${:.2}, classes {:?}\n",
                f.kind,
                f.first_seen,
                f.genome.len(),
                usd(o.coalition_gain),
                usd(o.vault_loss),
                loss_pct(o),
                usd(o.deficit_total()),
                o.kinds()
            );
        }
        s
    }
}

/// azUSD units (1e-6 USD) → dollars, for reports only: no float enters a run, a score or the
/// archive's comparisons (those are all integers).
pub fn usd(x: i128) -> f64 {
    x as f64 / 1e6
}

/// The honest LP's loss as a percentage of its stake at the start, for reports only (as
/// [`usd`]).
pub fn loss_pct(o: &Outcome) -> f64 {
    if o.honest_lp_start == 0 {
        0.0
    } else {
        o.vault_loss as f64 * 100.0 / o.honest_lp_start as f64
    }
}

struct Entry {
    fitness: i128,
    genome: Genome,
    outcome: Outcome,
}

fn random_genome(rng: &mut ChaCha8Rng) -> Genome {
    let n = rng.random_range(4..=40);
    (0..n).map(|_| Action::random(rng)).collect()
}

fn mutate(g: &mut Genome, rng: &mut ChaCha8Rng, max_len: usize) {
    let r = rng.random_range(0..100);
    if g.is_empty() {
        g.push(Action::random(rng));
        return;
    }
    let i = rng.random_range(0..g.len());
    match r {
        0..=39 => g[i].tweak(rng),
        40..=59 => g.insert(rng.random_range(0..=g.len()), Action::random(rng)),
        60..=74 => {
            g.remove(i);
        }
        75..=84 => {
            let j = rng.random_range(0..g.len());
            g.swap(i, j);
        }
        85..=94 => {
            let len = rng.random_range(1..=4).min(g.len() - i);
            let seg: Vec<Action> = g[i..i + len].to_vec();
            let at = rng.random_range(0..=g.len());
            for (k, a) in seg.into_iter().enumerate() {
                g.insert(at + k, a);
            }
        }
        _ => g[i] = Action::random(rng),
    }
    g.truncate(max_len);
}

fn splice(a: &Genome, b: &Genome, rng: &mut ChaCha8Rng, max_len: usize) -> Genome {
    let i = rng.random_range(0..=a.len());
    let j = rng.random_range(0..=b.len());
    let mut g: Genome = a[..i].to_vec();
    g.extend_from_slice(&b[j..]);
    g.truncate(max_len);
    g
}

/// Keep the archive's niches: insert a run into every niche it belongs to.
fn offer(archive: &mut BTreeMap<String, Vec<Entry>>, niche: &str, e: &Entry) -> bool {
    let v = archive.entry(niche.to_string()).or_default();
    if v.len() >= NICHE_SIZE && v.last().is_some_and(|w| w.fitness >= e.fitness) {
        return false;
    }
    let at = v.partition_point(|w| w.fitness >= e.fitness);
    v.insert(
        at,
        Entry {
            fitness: e.fitness,
            genome: e.genome.clone(),
            outcome: e.outcome.clone(),
        },
    );
    v.truncate(NICHE_SIZE);
    true
}

/// A behaviour niche keeps only its best run.
fn offer_one(archive: &mut BTreeMap<String, Vec<Entry>>, niche: &str, e: &Entry) {
    let v = archive.entry(niche.to_string()).or_default();
    if v.first().is_some_and(|w| w.fitness >= e.fitness) {
        return;
    }
    v.clear();
    v.push(Entry {
        fitness: e.fitness,
        genome: e.genome.clone(),
        outcome: e.outcome.clone(),
    });
}

/// Search from the base world.
pub fn search(base: &Base, cfg: &SearchConfig) -> SearchReport {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut archive = Archive::default();
    let mut runs = 0u64;
    if cfg.verbose {
        eprintln!(
            "azex-adversary: seed {} · {} iterations",
            cfg.seed, cfg.iterations
        );
    }
    for it in 0..cfg.iterations {
        let genome = archive.next_genome(&mut rng, cfg.max_len);
        let (outcome, _) = run(base, &genome, false);
        runs += 1;
        let e = Entry {
            fitness: outcome.fitness(),
            genome,
            outcome,
        };
        archive.record(it, &e, cfg.verbose);
        if cfg.verbose && (it + 1) % 500 == 0 {
            archive.print_progress(it + 1);
        }
    }
    let (findings, used) = archive.minimized_findings(base, cfg.minimize_runs);
    runs += used;
    SearchReport {
        seed: cfg.seed,
        iterations: cfg.iterations,
        runs,
        findings,
        best_clean: archive.best_clean(),
    }
}

/// The search's archive: the niches, and the iteration at which each violation class was
/// first seen.
#[derive(Default)]
struct Archive {
    niches: BTreeMap<String, Vec<Entry>>,
    first_seen: BTreeMap<String, u64>,
}

impl Archive {
    /// The next sequence to run: a fresh random one with probability 15 % (or while the archive
    /// is empty), else a parent from a random niche (biased to its best), spliced one time in
    /// six with another archived sequence, mutated 1–3 times.
    fn next_genome(&self, rng: &mut ChaCha8Rng, max_len: usize) -> Genome {
        if self.niches.is_empty() || rng.random_bool(0.15) {
            return random_genome(rng);
        }
        let niches: Vec<&String> = self.niches.keys().collect();
        let n = niches[rng.random_range(0..niches.len())].clone();
        let pool = &self.niches[&n];
        let k = rng
            .random_range(0..pool.len())
            .min(rng.random_range(0..pool.len()));
        let mut g = pool[k].genome.clone();
        if rng.random_bool(1.0 / 6.0) {
            let n2 = niches[rng.random_range(0..niches.len())].clone();
            let p2 = &self.niches[&n2];
            let other = &p2[rng.random_range(0..p2.len())].genome;
            g = splice(&g, other, rng, max_len);
        }
        for _ in 0..rng.random_range(1..=3) {
            mutate(&mut g, rng, max_len);
        }
        g
    }

    /// Offer run `it` to every niche it belongs to: its violation classes (noting the first
    /// sighting of each), `clean` if it has none, `any`, and its reach niche.
    fn record(&mut self, it: u64, e: &Entry, verbose: bool) {
        let kinds = e.outcome.kinds();
        for k in &kinds {
            if !self.first_seen.contains_key(*k) {
                self.first_seen.insert(k.to_string(), it);
                if verbose {
                    eprintln!(
                        "  iteration {it}: first {k} (gain ${:.2}, LP loss ${:.2})",
                        usd(e.outcome.coalition_gain),
                        usd(e.outcome.vault_loss)
                    );
                }
            }
            offer(&mut self.niches, k, e);
        }
        if kinds.is_empty() {
            offer(&mut self.niches, "clean", e);
        }
        offer(&mut self.niches, "any", e);
        let r = e.outcome.reach;
        let reach = format!(
            "reach u{:02} c{} f{:02}",
            r.utilisation, r.capacity, r.flags
        );
        offer_one(&mut self.niches, &reach, e);
    }

    fn print_progress(&self, iterations: u64) {
        let best = self.niches.get("any").and_then(|v| v.first());
        eprintln!(
            "  {} iterations, classes {:?}, best fitness ${:.2}",
            iterations,
            self.first_seen.keys().collect::<Vec<_>>(),
            best.map(|b| usd(b.fitness)).unwrap_or(0.0)
        );
    }

    /// The best sequence of every violation class, minimised (at most `budget` runs each) and
    /// run again; with the runs used.
    fn minimized_findings(&self, base: &Base, budget: usize) -> (Vec<Finding>, u64) {
        let mut runs = 0u64;
        let mut findings = vec![];
        for (kind, first) in &self.first_seen {
            let Some(best) = self.niches.get(kind.as_str()).and_then(|v| v.first()) else {
                continue;
            };
            let (genome, used) = minimize(base, &best.genome, kind, budget);
            runs += used;
            let (outcome, _) = run(base, &genome, false);
            runs += 1;
            findings.push(Finding {
                kind: kind.clone(),
                genome,
                outcome,
                first_seen: *first,
            });
        }
        (findings, runs)
    }

    /// The fittest run without violations.
    fn best_clean(&self) -> Option<Finding> {
        self.niches
            .get("clean")
            .and_then(|v| v.first())
            .map(|e| Finding {
                kind: "clean".into(),
                genome: e.genome.clone(),
                outcome: e.outcome.clone(),
                first_seen: 0,
            })
    }
}

/// Shrink `genome` while its runs still show violation class `kind` with at least half of its
/// fitness: first drop every move that changed nothing, then delta debugging (drop chunks,
/// halving their size), then single moves. Returns the shrunk sequence and the runs used.
pub fn minimize(base: &Base, genome: &Genome, kind: &str, budget: usize) -> (Genome, u64) {
    let o0 = run(base, genome, false).0;
    let f0 = o0.fitness();
    let floor = f0 - f0.abs() / 2;
    let mut used = 1u64;
    let mut shows = |g: &Genome| {
        used += 1;
        let o = run(base, g, false).0;
        o.kinds().contains(&kind) && o.fitness() >= floor
    };
    let mut g = genome.clone();
    let effective: Genome = g
        .iter()
        .zip(o0.effective.iter().chain(std::iter::repeat(&false)))
        .filter(|(_, e)| **e)
        .map(|(a, _)| a.clone())
        .collect();
    if effective.len() < g.len() && shows(&effective) {
        g = effective;
    }
    let mut n = 2usize;
    let mut runs = 0usize;
    while g.len() >= 2 && runs < budget {
        let chunk = g.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < g.len() && runs < budget {
            let mut cand = g.clone();
            cand.drain(start..(start + chunk).min(g.len()));
            runs += 1;
            if shows(&cand) {
                g = cand;
                reduced = true;
                n = n.saturating_sub(1).max(2);
                break;
            }
            start += chunk;
        }
        if !reduced {
            if n >= g.len() {
                break;
            }
            n = (n * 2).min(g.len());
        }
    }
    (g, used)
}
