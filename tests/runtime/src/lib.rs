//! Unikernels under `src/bin/` that exercise the runtime; `tests/` runs them as processes.
#![forbid(unsafe_code)]
#![no_std]
