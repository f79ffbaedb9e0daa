"""Reading the deployment files the way Docker would, without Docker: docker-compose.yaml with its
variables interpolated, the Dockerfile's instructions, and .dockerignore's rules.

Each reader implements only what these files use, and says where it stops short of Docker.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

import yaml

from news_etl import PROJECT_DIR

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yaml"
DOCKERFILE = PROJECT_DIR / "Dockerfile"
DOCKERIGNORE = PROJECT_DIR / ".dockerignore"

# Compose's interpolation: $$ (a literal $), ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
# ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and $VAR. Defaults that nest ${...} are not used here.
_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
                       r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env: dict[str, str]):
    """`value` (any YAML value) with compose's variables substituted from `env`, recursively."""
    if isinstance(value, dict):
        return {interpolate(k, env): interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(m: re.Match) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("braced") or m.group("named")
        op, arg = m.group("op"), m.group("arg") or ""
        current = env.get(name)
        unset = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in ("-", ":-"):
            return arg if unset else current
        if op in ("?", ":?"):
            if unset:
                raise ValueError(f"required variable {name} is missing: {arg}")
            return current
        if op in ("+", ":+"):
            return "" if unset else arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def compose_variables() -> set[str]:
    """Every variable the compose file interpolates (set in the shell or an .env file)."""
    text = COMPOSE_FILE.read_text()
    return {m.group("braced") or m.group("named") for m in _VARIABLE.finditer(text) if not m.group("escaped")}


def load_compose(env: dict[str, str] | None = None) -> dict:
    """The compose file as Docker Compose sees it with `env` (default: nothing set): YAML anchors
    and merge keys resolved, variables interpolated. Extension fields (x-...) are dropped."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    raw = {k: v for k, v in raw.items() if not str(k).startswith("x-")}
    return interpolate(raw, env or {})


def environment(service: dict) -> dict[str, str]:
    """A service's environment as a dict (compose allows a mapping or a list of NAME=value)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def argv(command) -> list[str]:
    """A compose command or healthcheck test as argv (a string is split as a shell would)."""
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def healthcheck_argv(service: dict) -> list[str] | None:
    """The health check's command: CMD's list as is, CMD-SHELL's string split like a shell's words."""
    test = (service.get("healthcheck") or {}).get("test")
    if not test:
        return None
    test = argv(test)
    if test[0] == "CMD":
        return test[1:]
    if test[0] == "CMD-SHELL":
        return shlex.split(" ".join(test[1:]))
    raise ValueError(f"unknown healthcheck form {test[0]!r}")


def builds_project_image(service: dict) -> bool:
    build = service.get("build")
    context = build.get("context", ".") if isinstance(build, dict) else build
    return context is not None and (PROJECT_DIR / context).resolve() == PROJECT_DIR


# --- Dockerfile ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    arguments: str


def dockerfile_instructions() -> list[Instruction]:
    """The instructions, with line continuations joined and comments dropped (no heredocs, no
    parser directives: the Dockerfile uses neither)."""
    instructions, pending, start = [], "", 0
    for number, text in enumerate(DOCKERFILE.read_text().splitlines(), 1):
        stripped = text.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append(Instruction(start, keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def copy_sources(instruction: Instruction) -> list[str]:
    """The build-context paths of a COPY (flags such as --chown dropped; not COPY --from)."""
    words = [w for w in shlex.split(instruction.arguments) if not w.startswith("--")]
    return words[:-1]


def env_of(instruction: Instruction) -> dict[str, str]:
    """ENV NAME=value ... (the form the Dockerfile uses)."""
    return dict(word.split("=", 1) for word in shlex.split(instruction.arguments))


# --- .dockerignore --------------------------------------------------------------------------------

def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    """(excludes, pattern) per line. Docker matches with Go's filepath.Match plus `**`; here `*`
    and `?` stay within one path segment and `**` spans any, which is the same for these rules."""
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            if part in ("**", "**/"):
                regex += "(?:.*/)?" if part == "**/" else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        rules.append((excludes, re.compile(regex + r"\Z")))
    return rules


def sent_to_docker(path: str, rules=None) -> bool:
    """Whether a file of the build context (a path relative to the project) is sent: the last rule
    that matches the path or one of its parent folders decides."""
    rules = dockerignore_rules() if rules is None else rules
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for excludes, pattern in rules:
        if any(pattern.match(c) for c in candidates):
            excluded = excludes
    return not excluded


# --- what the project reads ------------------------------------------------------------------------

_SETTING = re.compile(r"""["'{](NEWS_(?:ETL|SAMPLE)_[A-Z0-9_]+)\b""")


def project_settings() -> set[str]:
    """Every NEWS_ETL_ / NEWS_SAMPLE_ name the package, the DAGs and the source files read."""
    files = [*(PROJECT_DIR / "include").rglob("*.py"), *(PROJECT_DIR / "include").rglob("*.yaml"),
             *(PROJECT_DIR / "dags").glob("*.py")]
    return {name for f in files for name in _SETTING.findall(f.read_text(encoding="utf-8"))}
