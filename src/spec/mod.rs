//! The spec: what the caller asks for ([`Integral`](crate::Integral), the
//! settings it collects, the domain and the stop rules), and the checked
//! form the driver runs.

mod checked;
pub(crate) mod domain;
pub(crate) mod integral;
pub(crate) mod probe;
pub(crate) mod settings;
pub(crate) mod stop;

pub(crate) use checked::{Prepared, Spec};
