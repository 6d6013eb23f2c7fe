//! The committed bindings are exactly what bindgen generates from the headers today.

#[test]
fn committed_bindings_are_current() {
    let root = gen_bindings::workspace_root();
    for job in gen_bindings::JOBS {
        let generated = gen_bindings::generate(&root, job)
            .unwrap_or_else(|e| panic!("{e} (is libclang installed?)"));
        let committed = std::fs::read_to_string(root.join(job.output)).unwrap();
        assert!(
            committed == generated,
            "{} is stale: run `cargo xtask bindings`",
            job.output
        );
    }
}
