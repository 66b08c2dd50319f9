//! How fast a run plays in wall time: shared by the saved session and the trainer, so
//! that neither depends on the other.

use serde::{Deserialize, Serialize};

/// How fast the trainer steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Speed {
    /// As fast as the machine allows.
    #[default]
    Max,
    /// At most this many steps per second of wall time.
    PerSecond(f64),
}
