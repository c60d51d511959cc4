//! The README shows what the code does: its runtime snippets are the marked
//! regions of the examples, and its quick start is the crate docs' example.

use std::fs;

/// The contents of every fenced code block in `markdown`.
fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().starts_with("```")) {
            (None, true) => current = Some(Vec::new()),
            (Some(lines), true) => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), false) => lines.push(line),
            (None, false) => {}
        }
    }
    blocks
}

/// The lines of `examples/<name>.rs` between `// ANCHOR: readme` and
/// `// ANCHOR_END: readme`, less the indentation of `main`'s body.
fn example_region(name: &str) -> String {
    let source = fs::read_to_string(format!("examples/{name}.rs")).unwrap();
    let lines: Vec<&str> = source
        .lines()
        .skip_while(|line| !line.contains("ANCHOR: readme"))
        .skip(1)
        .take_while(|line| !line.contains("ANCHOR_END: readme"))
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect();
    assert!(!lines.is_empty(), "examples/{name}.rs has no readme region");
    lines.join("\n")
}

#[test]
fn readme_snippets_are_the_examples() {
    let blocks = code_blocks(&fs::read_to_string("README.md").unwrap());
    for name in ["sync_pollster", "smol_app", "ctrlc_cli"] {
        let region = example_region(name);
        assert!(
            blocks.contains(&region),
            "README.md has no block identical to the readme region of examples/{name}.rs:\n{region}"
        );
    }
}

#[test]
fn readme_quick_start_is_the_crate_docs_example() {
    let readme = code_blocks(&fs::read_to_string("README.md").unwrap());
    let docs: String = fs::read_to_string("src/lib.rs")
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    let crate_example = &code_blocks(&docs)[0];
    let quick_start = readme
        .iter()
        .find(|block| block.contains("integral.run_blocking()?"));
    assert_eq!(quick_start, Some(crate_example));
}

#[test]
fn readme_mpi_snippet_is_a_doc_example() {
    // The README's block cannot be a doctest (MPI is an optional feature);
    // `run_mpi`'s doc example is, with `--features mpi`.
    let readme = code_blocks(&fs::read_to_string("README.md").unwrap());
    let docs: String = fs::read_to_string("src/driver/mpi.rs")
        .unwrap()
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("///"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .filter(|line| !line.starts_with("# "))
        .collect::<Vec<_>>()
        .join("\n");
    let snippet = readme
        .iter()
        .find(|block| block.contains(".run_mpi(&world)"))
        .expect("README.md shows run_mpi");
    assert!(
        code_blocks(&docs).contains(snippet),
        "README.md's MPI block is not a doc example of src/driver/mpi.rs:\n{snippet}"
    );
}
