//! The registry of problem views: which view file draws which problem kind. Adding a
//! kind adds its view file (one module beside this one) and one arm to each `match` here.

use super::ais::{self, AisCtx, AisUi};
use super::ising::{self, IsingUi};
use super::landscape::{self, LandscapeUi};
use super::network::{self, NetworkUi};
use super::pane::RunPane;
use super::rbm::{self, RbmUi};
use super::tsp::{self, TspUi};
use super::{Action, Looks};
use crate::sim::ising::Coupling;
use crate::sim::rbm::RbmConfig;
use crate::sim::tsp::TspConfig;
use crate::sim::{
    IsingConfig, LandscapeConfig, NetworkConfig, ProblemConfig, ProblemView, Reply, Surface,
};
use egui::Ui;
use std::sync::Arc;

/// The per-kind view state of one run (textures and caches).
#[derive(Default)]
pub struct KindUi {
    /// The network's views.
    pub network: NetworkUi,
    /// The landscape's views.
    pub landscape: LandscapeUi,
    /// The tour's view.
    pub tsp: TspUi,
    /// The Boltzmann machine's views.
    pub rbm: RbmUi,
    /// The AIS panel of a landscape.
    pub landscape_ais: AisUi,
    /// The Ising lattice's views.
    pub ising: IsingUi,
}

impl KindUi {
    /// Takes in a problem's answer to a request.
    pub fn answer(&mut self, reply: Arc<Reply>) {
        match &*reply {
            Reply::LossSlice(_) => self.network.answer(reply),
            // Each run shows one kind, so an AIS answer goes to both AIS panels' owners.
            Reply::Ais(_) | Reply::AisErrors(_) => {
                self.rbm.ais.answer(std::sync::Arc::clone(&reply));
                self.landscape_ais.answer(reply);
            }
        }
    }
}

/// What a run's central view needs besides its pane.
pub struct ViewCtx<'a, 'b> {
    /// The view settings.
    pub looks: &'a mut Looks<'b>,
    /// What the view asks for.
    pub actions: &'a mut Vec<Action>,
}

/// The problem view of one run: the decision boundary, the walkers on their landscape.
pub fn central_ui(ui: &mut Ui, pane: &mut RunPane, ctx: &mut ViewCtx<'_, '_>) {
    let Some(view) = pane.view.clone() else {
        ui.label("Starting...");
        return;
    };
    let mut kind = std::mem::take(&mut pane.kind);
    match &*view {
        ProblemView::Network(v) => network::view_ui(ui, pane, &mut kind.network, v, ctx),
        ProblemView::Landscape(v) => landscape::view_ui(ui, pane, &mut kind.landscape, v, ctx),
        ProblemView::Tsp(v) => tsp::view_ui(ui, pane, &mut kind.tsp, v, ctx),
        ProblemView::Rbm(v) => rbm::view_ui(ui, pane, &mut kind.rbm, v, ctx),
        ProblemView::Ising(v) => ising::view_ui(ui, pane, &mut kind.ising, v, ctx),
    }
    pane.kind = kind;
    pane.view_changed = false;
}

/// Readouts a kind shows beside the plots (the landscape's thermodynamics, the AIS
/// panels).
pub fn readouts_ui(ui: &mut Ui, pane: &mut RunPane, looks: &Looks, actions: &mut Vec<Action>) {
    let Some(view) = pane.view.clone() else {
        return;
    };
    let mut kind = std::mem::take(&mut pane.kind);
    match &*view {
        ProblemView::Network(_) | ProblemView::Tsp(_) => {}
        ProblemView::Landscape(v) => {
            landscape::readouts_ui(ui, pane, &mut kind.landscape, v, looks);
            let t = pane.temperature();
            egui::CollapsingHeader::new("ln Z by annealing (AIS) vs quadrature")
                .id_salt(("landscape-ais", pane.side.letter()))
                .default_open(false)
                .show(ui, |ui| {
                    ais::panel_ui(
                        ui,
                        pane,
                        &mut kind.landscape_ais,
                        AisCtx {
                            defaults: (1000, 100, false),
                            temperature: t,
                            what: "ln Z(T)",
                            exact_curve: Vec::new(),
                            actions,
                        },
                    )
                });
        }
        ProblemView::Rbm(v) => rbm::readouts_ui(ui, pane, &mut kind.rbm, v, looks, actions),
        ProblemView::Ising(v) => ising::readouts_ui(ui, pane, &mut kind.ising, v, looks),
    }
    pane.kind = kind;
}

/// The problem's own settings (and the choice of problem). True when anything changed.
pub fn controls_ui(
    ui: &mut Ui,
    problem: &mut ProblemConfig,
    looks: &mut Looks,
    actions: &mut Vec<Action>,
) -> bool {
    let mut changed = false;
    egui::ComboBox::from_label("Anneal")
        .selected_text(problem.label())
        .show_ui(ui, |ui| {
            let formula = Surface::Formula("x^4 - 2*x^2 + 0.3*x + y^2".into());
            let walkers = match problem {
                ProblemConfig::Landscape(l) => l.walkers,
                _ => LandscapeConfig::default().walkers,
            };
            let choices = std::iter::once(ProblemConfig::Network(NetworkConfig::default())).chain(
                Surface::builtins()
                    .into_iter()
                    .chain([formula])
                    .map(|surface| {
                        ProblemConfig::Landscape(LandscapeConfig {
                            surface,
                            walkers,
                            ..LandscapeConfig::default()
                        })
                    }),
            )
            .chain([
                ProblemConfig::Tsp(TspConfig::default()),
                ProblemConfig::Rbm(RbmConfig::default()),
            ])
            .chain(
                [
                    Coupling::Ferro { j: 1.0 },
                    Coupling::Ferro { j: -1.0 },
                    Coupling::SpinGlass { seed: 1 },
                ]
                .map(|coupling| {
                    ProblemConfig::Ising(IsingConfig {
                        coupling,
                        ..IsingConfig::default()
                    })
                }),
            );
            for choice in choices {
                let selected = same_kind(problem, &choice);
                if ui.selectable_label(selected, choice.label()).clicked() && !selected {
                    *problem = choice;
                    changed = true;
                }
            }
        })
        .response
        .on_hover_text("What is annealed: the network's loss, walkers on a 2D surface, a travelling salesman's tour, a Boltzmann machine or an Ising lattice. Changing it restarts the run.");
    changed |= match problem {
        ProblemConfig::Network(c) => network::controls_ui(ui, c, looks, actions),
        ProblemConfig::Landscape(c) => landscape::controls_ui(ui, c, looks, actions),
        ProblemConfig::Tsp(c) => tsp::controls_ui(ui, c),
        ProblemConfig::Rbm(c) => rbm::controls_ui(ui, c),
        ProblemConfig::Ising(c) => ising::controls_ui(ui, c),
    };
    changed
}

/// Whether two configs are the same choice in the "Anneal" menu.
fn same_kind(a: &ProblemConfig, b: &ProblemConfig) -> bool {
    match (a, b) {
        (ProblemConfig::Network(_), ProblemConfig::Network(_)) => true,
        (ProblemConfig::Landscape(x), ProblemConfig::Landscape(y)) => {
            x.surface.label() == y.surface.label()
        }
        (ProblemConfig::Tsp(_), ProblemConfig::Tsp(_)) => true,
        (ProblemConfig::Rbm(_), ProblemConfig::Rbm(_)) => true,
        (ProblemConfig::Ising(x), ProblemConfig::Ising(y)) => x.label() == y.label(),
        _ => false,
    }
}
