//! Export for `curl` (not written yet).

use super::{Export, Model, Options, Target};

pub(crate) fn render(_model: &Model, _options: &Options) -> Export {
    Export::new(Target::Curl)
}
