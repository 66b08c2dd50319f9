//! The Concepts text: the statistical-mechanics view of learning, with the formulas the
//! app actually uses. Drawn by the app's Concepts window; lessons open it at a section.

/// The sections: a title and its text.
pub const SECTIONS: [(&str, &str); 8] = [
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
