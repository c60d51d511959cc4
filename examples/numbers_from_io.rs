//! The original program's first step done as IO: read whitespace-separated
//! numbers from a file, or from standard input, without ever holding them
//! all, and print their count, sum and mean ± standard error.
//!
//! ```text
//! seq 1 1000000 | cargo run --release --example numbers_from_io
//! cargo run --release --example numbers_from_io -- numbers.txt
//! ```
//!
//! A malformed number stops the run with an error that names its line.

use std::env;
use std::process::ExitCode;

use futures::io::BufReader;
use quadpipe::Source;

fn main() -> ExitCode {
    let path = env::args().nth(1);
    let result = smol::block_on(async {
        let source = match &path {
            Some(path) => {
                let file = smol::fs::File::open(path)
                    .await
                    .map_err(|err| format!("{path}: {err}"))?;
                Source::from_reader(BufReader::new(file))
            }
            // Standard input is blocking; smol's `Unblock` reads it on a
            // thread of its own so this task stays async.
            None => Source::from_reader(BufReader::new(smol::Unblock::new(std::io::stdin()))),
        };
        source.reduce().await.map_err(|err| err.to_string())
    });
    match result {
        Ok(numbers) => {
            println!("count: {}", numbers.count());
            println!("sum:   {}", numbers.sum());
            println!("mean:  {} ± {}", numbers.mean(), numbers.std_error());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("numbers_from_io: {message}");
            ExitCode::FAILURE
        }
    }
}
