//! `bitsim`: run scenario files, draw the job state graph.
//!
//! A thin shell over [`bitsim::scenario`]: the logic lives in the library so that tests and fuzzers
//! call it directly.

use bitsim::scenario::{
    graph, run_paths, run_paths_keeping, run_paths_traced, RunOptions, DEFAULT_TRACE_LIMIT,
};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// A deterministic simulator of Windows BITS.
#[derive(Parser)]
#[command(name = "bitsim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files. Exit status: 0 all passed, 1 a step failed, 2 an input is unreadable or
    /// not a valid scenario (invalid files run nothing and count as failed).
    Run {
        /// Print one JSON report on stdout instead of the human summary.
        #[arg(long)]
        json: bool,
        /// Also print every step's events on the virtual timeline, as they happen (to stderr with
        /// --json).
        #[arg(long)]
        trace: bool,
        /// With --trace: at most this many event lines per scenario (0: no limit).
        #[arg(long, value_name = "LINES", default_value_t = DEFAULT_TRACE_LIMIT, requires = "trace")]
        trace_limit: usize,
        /// Materialise the files of `"sandbox": true` scenarios in DIR/<scenario name>/ and keep
        /// them there (without it each run gets a fresh folder, removed afterwards).
        #[arg(long, value_name = "DIR")]
        keep_sandbox: Option<PathBuf>,
        /// Scenario files, or folders (every regular *.json file below them, sorted by path; a file
        /// reached twice runs once).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Print the job state graph generated from the transition table.
    Graph {
        /// Mermaid (as the Markdown page docs/state-machine.md) instead of Graphviz DOT.
        #[arg(long)]
        mermaid: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Graph { mermaid } => {
            let text = if mermaid {
                graph::mermaid_markdown()
            } else {
                graph::dot()
            };
            print_out(&text);
            ExitCode::SUCCESS
        }
        Command::Run {
            json,
            trace,
            trace_limit,
            keep_sandbox,
            paths,
        } => {
            let opts = RunOptions::default();
            // The trace is written while the scenarios run, never held whole.
            let batch = match (trace, json, keep_sandbox.as_deref()) {
                (false, _, None) => run_paths(&paths, &opts),
                (false, _, Some(keep)) => run_paths_keeping(&paths, &opts, None, keep),
                (true, false, keep) => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    match keep {
                        None => run_paths_traced(&paths, &mut out, trace_limit),
                        Some(k) => {
                            run_paths_keeping(&paths, &opts, Some((&mut out, trace_limit)), k)
                        }
                    }
                }
                (true, true, keep) => {
                    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
                    match keep {
                        None => run_paths_traced(&paths, &mut err, trace_limit),
                        Some(k) => {
                            run_paths_keeping(&paths, &opts, Some((&mut err, trace_limit)), k)
                        }
                    }
                }
            };
            eprint!("{}", batch.errors());
            if json {
                let report = serde_json::to_string_pretty(&batch.report()).unwrap_or_default();
                print_out(&format!("{report}\n"));
            } else {
                print_out(&batch.summary());
            }
            ExitCode::from(batch.exit_code() as u8)
        }
    }
}

/// Print to stdout; a closed pipe (`bitsim … | head`) is not an error worth a panic.
fn print_out(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}
