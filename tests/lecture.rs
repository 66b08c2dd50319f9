//! Lecture-ready: every shipped preset plays at a pace a class can watch.

#[test]
fn every_shipped_preset_plays_for_20_to_90_seconds_at_its_own_pace() {
    let durations = annealscope::bench::preset_durations(0.3).expect("measured");
    assert_eq!(durations.len(), annealscope::preset::BUILTIN.len());
    for (name, seconds) in durations {
        assert!(
            (20.0..=90.0).contains(&seconds),
            "{name} plays for {seconds:.1} s"
        );
    }
}
