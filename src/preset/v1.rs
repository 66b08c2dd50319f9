//! The reader of format version 1 (the first release's presets), converted to today's
//! [`Preset`] without changing their meaning.
//!
//! Version 1 spelled the problem as options: `run.data` and `run.network` for the network,
//! and `run.landscape: Some(..)` to anneal walkers instead (the data and network settings
//! were then unused). The view's hidden controls were `view.hidden` and the accuracy plot
//! `view.plots.accuracy`.

use super::{Control, PlotSet, Preset, ViewConfig};
use crate::pace::Pace;
use crate::sim::{
    Activation, AnnealerConfig, DataConfig, LandscapeConfig, NetworkConfig, ProblemConfig,
    RunConfig, TemperingConfig,
};
use serde::Deserialize;

/// A version-1 preset.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresetV1 {
    #[serde(rename = "version")]
    _version: u32,
    title: String,
    description: String,
    run: RunV1,
    compare: Option<RunV1>,
    speed: SpeedV1,
    view: ViewV1,
}

impl Default for PresetV1 {
    fn default() -> Self {
        Self {
            _version: 1,
            title: "Untitled".into(),
            description: String::new(),
            run: RunV1::default(),
            compare: None,
            speed: SpeedV1::Max,
            view: ViewV1::default(),
        }
    }
}

/// How fast version 1 stepped.
#[derive(Clone, Copy, Debug, Deserialize)]
enum SpeedV1 {
    Max,
    PerSecond(f64),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RunV1 {
    data: DataConfig,
    network: NetworkV1,
    annealer: AnnealerConfig,
    landscape: Option<LandscapeConfig>,
    tempering: Option<TemperingConfig>,
    seed: u64,
    steps: u64,
}

impl Default for RunV1 {
    fn default() -> Self {
        Self {
            data: DataConfig::default(),
            network: NetworkV1::default(),
            annealer: AnnealerConfig::default(),
            landscape: None,
            tempering: None,
            seed: 0,
            steps: 20_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NetworkV1 {
    hidden: usize,
    activation: Activation,
    init_scale: f64,
    weight_decay: f64,
}

impl Default for NetworkV1 {
    fn default() -> Self {
        let n = NetworkConfig::default();
        Self {
            hidden: n.hidden,
            activation: n.activation,
            init_scale: n.init_scale,
            weight_decay: n.weight_decay,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ViewV1 {
    grid: usize,
    scale: f32,
    dark: bool,
    presenter: bool,
    log_temperature: bool,
    log_energy: bool,
    hidden: Vec<Control>,
    plots: PlotSetV1,
    log_landscape: bool,
    density_underlay: bool,
}

impl Default for ViewV1 {
    fn default() -> Self {
        let v = ViewConfig::default();
        Self {
            grid: v.grid,
            scale: v.scale,
            dark: v.dark,
            presenter: v.presenter,
            log_temperature: v.log_temperature,
            log_energy: v.log_energy,
            hidden: v.hidden_controls,
            plots: PlotSetV1::default(),
            log_landscape: v.log_landscape,
            density_underlay: v.density_underlay,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PlotSetV1 {
    temperature: bool,
    energy: bool,
    acceptance: bool,
    accuracy: bool,
    heat_capacity: bool,
}

impl Default for PlotSetV1 {
    fn default() -> Self {
        Self {
            temperature: true,
            energy: true,
            acceptance: true,
            accuracy: true,
            heat_capacity: true,
        }
    }
}

impl RunV1 {
    fn into_current(self) -> RunConfig {
        let problem = match self.landscape {
            Some(l) => ProblemConfig::Landscape(l),
            None => ProblemConfig::Network(NetworkConfig {
                data: self.data,
                hidden: self.network.hidden,
                activation: self.network.activation,
                init_scale: self.network.init_scale,
                weight_decay: self.network.weight_decay,
            }),
        };
        RunConfig {
            problem,
            annealer: self.annealer,
            tempering: self.tempering,
            seed: self.seed,
            steps: self.steps,
            stop: None,
        }
    }
}

impl PresetV1 {
    /// The same session as a current preset.
    pub fn into_current(self) -> Preset {
        let v = self.view;
        Preset {
            version: super::FORMAT_VERSION,
            title: self.title,
            description: self.description,
            run: self.run.into_current(),
            compare: self.compare.map(RunV1::into_current),
            pace: match self.speed {
                SpeedV1::Max => Pace::Max,
                SpeedV1::PerSecond(r) => Pace::StepsPerSecond(r),
            },
            view: ViewConfig {
                grid: v.grid,
                scale: v.scale,
                dark: v.dark,
                presenter: v.presenter,
                log_temperature: v.log_temperature,
                log_energy: v.log_energy,
                hidden_controls: v.hidden,
                plots: PlotSet {
                    temperature: v.plots.temperature,
                    energy: v.plots.energy,
                    acceptance: v.plots.acceptance,
                    observables: v.plots.accuracy,
                    heat_capacity: v.plots.heat_capacity,
                },
                presenter_plots: PlotSet::STORY,
                log_landscape: v.log_landscape,
                density_underlay: v.density_underlay,
            },
        }
    }
}

/// A field path of today's format as a version-1 file spells it, so that errors in an
/// old file name the field as written there.
pub fn field_path(current: &str) -> String {
    let mut path = current.to_owned();
    for side in ["run.", "compare."] {
        for (now, then) in [
            ("problem.Network.data.", "data."),
            ("problem.Network.", "network."),
            ("problem.Landscape.", "landscape."),
        ] {
            let from = format!("{side}{now}");
            if let Some(rest) = path.strip_prefix(&from) {
                path = format!("{side}{then}{rest}");
            }
        }
    }
    if let Some(rest) = path.strip_prefix("view.hidden_controls") {
        path = format!("view.hidden{rest}");
    }
    if path.starts_with("pace.") {
        path = "speed".into();
    }
    path
}
