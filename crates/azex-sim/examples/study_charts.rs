//! Redraws a capital study's charts from its JSON (no simulation):
//! `cargo run --release -p azex-sim --example study_charts -- out/sim-full/study.json OUT_DIR`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or("out/sim/study.json", |s| s.as_str());
    let out = args.get(1).map_or("out/sim", |s| s.as_str());
    let text = std::fs::read_to_string(path).expect("read study.json");
    let r: azex_sim::StudyResult = serde_json::from_str(&text).expect("parse study.json");
    for f in azex_sim::study_report::write_charts(&r, out).expect("charts") {
        println!("{}", f.display());
    }
}
