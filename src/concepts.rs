//! The Concepts text: the statistical-mechanics view of learning, with the formulas the
//! app actually uses. Drawn by the app's Concepts window; lessons open it at a section.

/// The sections: a title and its text.
pub const SECTIONS: [(&str, &str); 15] = [
    (
        "Energy = loss",
        "The network's parameters theta are the state of a physical system and its training \
loss is the energy: E(theta) = mean cross-entropy over the training points \
(+ lambda |theta|^2 with weight decay). Learning is looking for low-energy states.",
    ),
    (
        "Temperature and the Metropolis rule",
        "Each step proposes theta' = theta + sigma N(0, I) and accepts it with probability \
min(1, exp(-dE / T)), dE = E(theta') - E(theta). Downhill moves are always taken; \
uphill moves are taken more often the hotter the system. T is the willingness to go uphill.",
    ),
    (
        "The Boltzmann distribution",
        "At a fixed T, the Metropolis walk visits states with probability \
p(theta) = exp(-E(theta)/T) / Z, provided Z is finite. For the network that takes weight \
decay: the loss stays bounded while the weights run off to infinity, so without it \
exp(-E/T) does not normalise and the walk drifts on instead of settling into a \
distribution. The landscapes' walkers live in a box, so theirs always exists. The softmax at the network's output is the same formula: \
class probabilities exp(z_k) / sum_j exp(z_j) are a Boltzmann distribution over classes \
with energies -z_k at T = 1.",
    ),
    (
        "Partition function",
        "Z = sum over states of exp(-E/T) normalises the Boltzmann distribution. Every \
thermodynamic quantity follows from it: <E> = T^2 d(ln Z)/dT.",
    ),
    (
        "Free energy and entropy",
        "F = -T ln Z = U - T S, with U = <E> the mean energy and S the entropy (how many states \
the system spreads over). At high T entropy wins and the walker spreads out; at low T \
energy wins and it settles in a minimum.",
    ),
    (
        "Heat capacity and freezing",
        "C = Var(E) / T^2 peaks where the system freezes: there, small changes of T \
reorganise it most, so cooling should be slowest. The heat capacity plot estimates C for \
one chain from its energy's fluctuations about a straight line over the last `window` \
steps (so the cooling drift does not count as fluctuation), and for walkers from the \
spread of their energies at the current T; it marks the peak. Watch the acceptance rate \
collapse there. The estimate needs equilibrium (slow cooling), and is left out where \
T is too low for the energy's rounding.",
    ),
    (
        "Annealing versus quenching",
        "Annealing cools slowly (geometric alpha near 1) so the system stays near \
equilibrium and finds deep minima; quenching (alpha far below 1) freezes it at once into \
whatever basin it is in. Reheating (cosine restarts, or H) lets it escape again.",
    ),
    (
        "Step size and the energy scale",
        "If sigma is so small that every dE is far below T, every move is accepted and the \
walk is pure diffusion: the reference article's sigma = 0.001 never learns (see its \
preset). If sigma is too large, almost every move is rejected.",
    ),
    (
        "Energy-based models and Boltzmann machines",
        "An energy-based model gives every configuration x an energy E(x) and a probability \
p(x) = exp(-E(x)) / Z: learning shapes the energy so the data sit in its valleys. A \
restricted Boltzmann machine has visible units v (the pixels of an image) and hidden units \
h, all 0 or 1, with E(v, h) = -b.v - c.h - v^T W h. Given v the hidden units are independent: \
p(h_j = 1 | v) = sigmoid(c_j + W_j.v), and likewise the visible units given h, which makes \
block Gibbs sampling (all h, then all v) easy. At temperature T the same machine samples \
exp(-E/T) / Z(T): T = 1 is the model, lower T sharpens it onto its modes.",
    ),
    (
        "Free energy of a pattern",
        "Summing the hidden units out gives p(v) = exp(-F(v)) / Z with the free energy \
F(v) = -b.v - sum_j ln(1 + exp(c_j + W_j.v)). Low F means probable. The log-likelihood of \
the data is -<F(v)>_data - ln Z: learning pulls the data's free energy down (the first \
term) while ln Z, which sums over every pattern, pushes everything else up. The gradient \
is the difference <v h>_data - <v h>_model; contrastive divergence replaces the model term \
by a few Gibbs steps from the data, which is cheap but learns a different objective.",
    ),
    (
        "Why Z is hard",
        "Z = sum over all states of exp(-E/T) has 2^n terms for n binary units: 2^32 for a \
4x4 image with 16 hidden units, 2^1000 for a modest real machine. Summing one layer out \
analytically leaves 2^(smaller layer) terms, which is how this app gets Z exactly (65536 \
terms at most, about a millisecond). Without Z there is no likelihood to report and no \
way to compare two models, which is why estimating it matters.",
    ),
    (
        "Annealed importance sampling",
        "AIS measures Z with annealing. Start from a distribution whose Z_0 is known (weights \
zero: independent pixels) and move through K intermediate distributions \
p_beta ~ f_0^(1-beta) f_1^beta to the model (beta = 1), one Gibbs sweep at each. Each run \
multiplies the ratios f_beta_k(x) / f_beta_(k-1)(x) at the states it passes: its weight w \
satisfies E[w] = Z / Z_0 exactly, however fast the annealing. Averaging M runs gives \
ln Z = ln Z_0 + ln mean(w), with an error bar from the spread of the weights. Slow \
annealing (large K) keeps each run near equilibrium, the weights similar and the error \
small; a quench gives a few lucky runs that dominate: the same lesson as cooling. The \
same estimator works on the 2D landscapes, from the uniform distribution on the box.",
    ),
    (
        "Tempering a sampler",
        "At low T the Gibbs chains of a trained machine stay in one mode (one pattern) for \
ever, though the others are as likely: the barriers between modes are too high. Parallel \
tempering runs copies at a ladder of temperatures and lets neighbours swap their states \
with probability min(1, exp((1/T_i - 1/T_j)(E_i - E_j))): hot copies cross the barriers, \
and the swaps bring what they find down to the cold one, whose distribution stays exact.",
    ),
    (
        "Phase transitions: the Ising model",
        "A spin s_i = +1 or -1 sits on every site of an L x L lattice, with energy \
E = -J sum over neighbouring pairs s_i s_j - h sum s_i. Aligned neighbours lower the energy, so \
at low T the spins order (the magnetisation |m| = |mean s_i| near 1); at high T entropy wins \
and |m| is near 0. In two dimensions the change is sharp: at Onsager's \
T_c = 2 / ln(1 + sqrt 2) = 2.269 (J = 1, h = 0) clusters of every size coexist and the heat \
capacity C and the susceptibility chi (the fluctuations of E and of m) peak, growing without \
bound as L grows: a phase transition. The exact curves (Kaufman for the finite torus, Yang \
for |m|) are drawn under the measured ones. Near T_c single-spin flips decorrelate ever more \
slowly (critical slowing down); Wolff's moves flip whole clusters and do not. With bonds of \
random sign (a spin glass) no arrangement satisfies every bond (frustration): many nearly \
equal valleys, the landscape annealing was invented for.",
    ),
    (
        "The travelling salesman",
        "Visit n cities once each and return, by the shortest tour: (n - 1)!/2 tours, about \
10^155 for 100 cities, far beyond enumeration. The energy is the tour's length; a 2-opt move \
reverses a stretch of the tour, and its dE needs only the two edges it removes and the two \
it adds. Kirkpatrick, Gelatt and Vecchi (1983) annealed tours like this: while T is high the \
route changes wholesale; as T falls its large-scale shape freezes first (where the heat \
capacity peaks), then finer and finer kinks. A quench accepts only shortening moves and \
stops in a local minimum: every edge locally fine, the route wrong, and improving it would \
mean first making it longer.",
    ),
];

/// The section titles.
pub fn topics() -> Vec<&'static str> {
    SECTIONS.iter().map(|(t, _)| *t).collect()
}

/// Whether a section has this title.
pub fn has_topic(topic: &str) -> bool {
    SECTIONS.iter().any(|(t, _)| *t == topic)
}

#[cfg(test)]
mod boltzmann_tests {
    use super::SECTIONS;

    /// Issue 10, item 8: the Concepts window does not promise the network a Boltzmann
    /// distribution it does not have: without weight decay `exp(-E/T)` does not normalise.
    #[test]
    fn the_boltzmann_distribution_of_the_network_needs_weight_decay() {
        let (_, text) = SECTIONS
            .iter()
            .find(|(title, _)| *title == "The Boltzmann distribution")
            .expect("the section");
        assert!(
            text.contains("weight decay") && text.contains("normalise"),
            "{text}"
        );
        let (_, heat) = SECTIONS
            .iter()
            .find(|(title, _)| title.starts_with("Heat capacity"))
            .expect("the section");
        assert!(heat.contains("straight line"), "{heat}");
    }
}
