"""The agent's subcommands, registered through the ``cytoql.commands`` entry points:
``cytoql ask``, ``cytoql mcp`` and ``cytoql agent-bench``."""

from __future__ import annotations

import sys

__all__ = ["register_ask", "register_bench", "register_mcp"]


def data_options(adata, args) -> dict:
    """``ask``/``query`` keyword options from the common data flags."""
    type_key = args.type_key
    if type_key == "cell_type" and type_key not in adata.obs.columns:
        type_key = None
    return {"type_key": type_key, "fov_key": args.fov_key, "unit": args.unit,
            "um_per_unit": args.um_per_unit}


def make_backend(args):
    """The backend named by ``--backend`` (with ``--record`` wrapping it)."""
    from cytoql.agent.backends import ManualBackend, OpenAIBackend, RecordingBackend, ReplayBackend
    from cytoql.cli import UsageError

    if args.backend == "replay":
        if not args.replay:
            raise UsageError("--backend replay needs --replay FILE")
        backend = ReplayBackend(args.replay)
    elif args.backend == "manual":
        backend = ManualBackend(args.exchange, output=sys.stderr)
    else:
        backend = OpenAIBackend(config=args.config)
    return RecordingBackend(backend, args.record) if args.record else backend


def add_backend_options(parser) -> None:
    parser.add_argument("--backend", choices=("openai", "replay", "manual"), default="openai",
                        help="the model: an OpenAI-compatible endpoint (default), a recorded "
                             "run, or you (prompts shown, replies typed or dropped in files)")
    parser.add_argument("--config", default=None, help="TOML file with an [llm] table")
    parser.add_argument("--record", default=None, metavar="FILE",
                        help="record every model exchange to a JSONL file")
    parser.add_argument("--replay", default=None, metavar="FILE",
                        help="the JSONL recording for --backend replay")
    parser.add_argument("--exchange", default=None, metavar="DIR",
                        help="manual backend: write NNN.prompt.md, wait for NNN.reply.md")


def cmd_ask(args) -> int:
    from cytoql.agent.backends import BackendError
    from cytoql.agent.core import ask
    from cytoql.cli import EXIT_DATA, EXIT_OK, read_h5ad

    adata = read_h5ad(args.path)
    try:
        backend = make_backend(args)
        answer = ask(adata, args.question, backend=backend, mode=args.mode,
                     max_repairs=args.max_repairs, codeact_steps=args.steps,
                     write_uns=args.write_uns, grammar=args.grammar,
                     **data_options(adata, args))
    except BackendError as exc:
        print(f"cytoql: error: {exc}", file=sys.stderr)
        return EXIT_DATA
    if args.write_uns:
        adata.write_h5ad(args.path)
    if args.json:
        print(answer.to_json(indent=1))
    else:
        print(answer.show() if args.show else answer.summary())
    return EXIT_OK if answer.ok else EXIT_DATA


def register_ask(commands, add_data_options) -> None:
    """``cytoql ask data.h5ad "question"``."""
    from cytoql.agent.core import MODES

    p = commands.add_parser("ask", help="answer a question in words (a model writes CytoQL)")
    p.add_argument("path", help="an .h5ad file")
    p.add_argument("question")
    p.add_argument("--show", action="store_true", help="print the whole transcript")
    p.add_argument("--json", action="store_true", help="print the answer record as JSON")
    p.add_argument("--mode", choices=MODES, default="dsl-first")
    p.add_argument("--max-repairs", type=int, default=3)
    p.add_argument("--steps", type=int, default=10, help="CodeAct step limit (default 10)")
    p.add_argument("--grammar", action="store_true",
                   help="send the CytoQL grammar for constrained decoding (vLLM, llama.cpp)")
    p.add_argument("--write-uns", action="store_true",
                   help="append the answer to uns['cytoql_agent_answers'] in the file")
    add_backend_options(p)
    add_data_options(p)
    p.set_defaults(run=cmd_ask)


def cmd_mcp(args) -> int:
    from cytoql.agent.mcp_server import serve

    serve()
    return 0


def register_mcp(commands, add_data_options) -> None:
    """``cytoql mcp``: the MCP server over stdio."""
    p = commands.add_parser("mcp", help="serve info/compile/query/explain as MCP tools (stdio)")
    p.set_defaults(run=cmd_mcp)


def cmd_bench(args) -> int:
    from cytoql.agent.bench import run_cli

    return run_cli(args)


def register_bench(commands, add_data_options) -> None:
    """``cytoql agent-bench``: success, pass@k, AUP, cost per correct answer, agreement."""
    from cytoql.agent.bench import add_arguments

    p = commands.add_parser("agent-bench", help="benchmark the agent on a question set")
    add_arguments(p)
    add_backend_options(p)
    p.set_defaults(run=cmd_bench)
