#!/usr/bin/env bash
# Checks the container files without a Docker engine:
#   1. `docker-compose config -q` (the docker-compose 1.29.2 Python package) accepts docker-compose.oss.yaml and
#      docker-compose.oel.yaml;
#   2. what they ask of Talos exists in this repository: every service command is a real `talos` subcommand with
#      real flags (read from Sources/TalosCLI), every TALOS_* variable is a configuration key (as the binary lists
#      them: `talos config schema --format json`), mounted files exist, `--config` paths are mounted, ports are
#      Talos's (and PostgreSQL's, Prometheus's), Prometheus scrapes every server's metrics port, the servers wait
#      for the one-shot migration, and the Dockerfile's CMD/EXPOSE/HEALTHCHECK agree with the same rules.
# Prints `ok   - …` / `FAIL - …` lines and `compose-check: N passed, M failed`; exits 1 on any failure.
#   scripts/compose-check.sh [BINARY]   (default .build/debug/talos; tools in /tmp/talos-compose-venv, made on first
#                                        use; TALOS_COMPOSE_VENV=DIR)
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
cd "$(dirname "$0")/.."
root=$PWD
venv=${TALOS_COMPOSE_VENV:-/tmp/talos-compose-venv}

# docker-compose 1.29.2 pins PyYAML<6, and PyYAML 5.4.1 has no wheel for Python 3.11 and no longer builds with
# Cython 3 under build isolation: build it against Cython<3 without isolation. A virtualenv on the system Python
# keeps all of it away from everything else.
if ! "$venv/bin/docker-compose" version >/dev/null 2>&1; then
  python=/usr/bin/python3
  [ -x "$python" ] || python=$(command -v python3)
  "$python" -m venv "$venv" >&2
  pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
  "${pip[@]}" "cython<3" wheel setuptools >&2
  "${pip[@]}" --no-build-isolation "pyyaml==5.4.1" >&2
  "${pip[@]}" "docker-compose==1.29.2" >&2
fi

# `config` needs the env_file to exist; talos.env is the user's (made from talos.env.example, never committed), so
# validate a copy of the files with talos.env taken from the example.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r Dockerfile .dockerignore config docker-compose.oss.yaml docker-compose.oel.yaml talos.env.example "$work/"
cp talos.env.example "$work/talos.env"
: >"$work/results"
"$binary" config schema --format json >"$work/config-schema.json"
for file in docker-compose.oss.yaml docker-compose.oel.yaml; do
  if output=$(cd "$work" && env -u POSTGRES_PASSWORD "$venv/bin/docker-compose" -f "$file" config -q 2>&1); then
    echo "ok   - docker-compose 1.29.2 config -q accepts $file" >>"$work/results"
  else
    echo "FAIL - docker-compose 1.29.2 config -q rejects $file: $(echo "$output" | tr '\n' ' ')" >>"$work/results"
  fi
done

"$venv/bin/python" - "$root" "$work/results" "$work/config-schema.json" <<'PY'
import json, os, re, sys
import yaml

root, results_path, schema_path = sys.argv[1], sys.argv[2], sys.argv[3]
results = [line.rstrip("\n") for line in open(results_path)]


def check(ok, message):
    results.append(("ok   - " if ok else "FAIL - ") + message)
    return ok


def read(path):
    with open(os.path.join(root, path)) as f:
        return f.read()


# ---- The talos command tree, from Sources/TalosCLI --------------------------------------------------------------

def kebab(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def balanced(text, start):
    """The index just past the parenthesised group opening at text[start] == '(' (strings honoured)."""
    depth, i, in_string = 0, start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced parentheses")


structs = {}  # name -> {"name": command name or None, "subcommands": [...], "options": {flag: takes_value}, "groups": [...]}
for directory, _, files in os.walk(os.path.join(root, "Sources/TalosCLI")):
    for file in sorted(files):
        if not file.endswith(".swift"):
            continue
        text = open(os.path.join(directory, file)).read()
        starts = [m for m in re.finditer(r"^(?:public |internal )?struct (\w+)\s*:\s*([^{]*)\{", text, re.M)]
        for index, match in enumerate(starts):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
            body = text[match.end():end]
            kinds = match.group(2)
            if "ParsableCommand" not in kinds and "ParsableArguments" not in kinds:
                continue
            info = {"command": "ParsableCommand" in kinds, "name": None, "subcommands": [], "options": {}, "groups": []}
            name = re.search(r'commandName:\s*"([^"]+)"', body)
            info["name"] = name.group(1) if name else kebab(match.group(1))
            subs = re.search(r"subcommands:\s*\[([^\]]*)\]", body)
            if subs:
                info["subcommands"] = re.findall(r"(\w+)\.self", subs.group(1))
            info["groups"] = re.findall(r"@OptionGroup(?:\([^)]*\))?\s+var\s+\w+\s*:\s*(\w+)", body)
            for attribute in re.finditer(r"@(Option|Flag)\b", body):
                position = attribute.end()
                arguments = ""
                if position < len(body) and body[position] == "(":
                    close = balanced(body, position)
                    arguments, position = body[position + 1:close - 1], close
                var = re.match(r"\s*var\s+(\w+)", body[position:])
                if not var:
                    continue
                prop = var.group(1)
                takes_value = attribute.group(1) == "Option"
                names = []
                name_argument = re.match(r"\s*name:\s*(\[[^\]]*\]|\.\w+(?:\(\"[^\"]*\"\))?)", arguments)
                spec = name_argument.group(1) if name_argument else ".long"
                for item in re.finditer(r"\.(\w+)(?:\(\"([^\"]*)\"\))?", spec):
                    kind, value = item.group(1), item.group(2)
                    if kind == "long":
                        names.append("--" + kebab(prop))
                    elif kind == "short":
                        names.append("-" + prop[0])
                    elif kind == "shortAndLong":
                        names += ["-" + prop[0], "--" + kebab(prop)]
                    elif kind == "customLong":
                        names.append("--" + value)
                    elif kind == "customShort":
                        names.append("-" + value)
                if not takes_value and "inversion" in arguments:
                    names += [n.replace("--", "--no-", 1) for n in names if n.startswith("--")]
                for n in names:
                    info["options"][n] = takes_value
            structs[match.group(1)] = info


def options_of(struct_name, seen=()):
    info = structs.get(struct_name, {"options": {}, "groups": []})
    options = dict(info["options"])
    for group in info["groups"]:
        if group not in seen:
            options.update(options_of(group, seen + (group,)))
    options.update({"-h": False, "--help": False})
    return options


root_command = next((n for n, i in structs.items() if i["command"] and i["name"] == "talos"), None)
check(root_command is not None, "Sources/TalosCLI declares the `talos` root command")
commands = {}  # "serve admin" -> options


def walk(struct_name, path):
    commands[" ".join(path)] = options_of(struct_name)
    for sub in structs.get(struct_name, {}).get("subcommands", []):
        if sub in structs:
            walk(sub, path + [structs[sub]["name"]])


if root_command:
    walk(root_command, [])
check({"serve", "serve admin", "serve public", "migrate up"} <= set(commands),
      "talos has the subcommands serve, serve admin, serve public, migrate up ("
      + str(len(commands) - 1) + " commands read from Sources/TalosCLI)")
SERVICE_COMMANDS = {"serve", "serve admin", "serve public", "migrate up", "proxy"}


def parse_command(argv):
    """(subcommand path, {flag: value or True}, problems) for a talos argv."""
    words, i = [], 0
    while i < len(argv) and not argv[i].startswith("-") and " ".join(words + [argv[i]]) in commands:
        words.append(argv[i])
        i += 1
    path = " ".join(words)
    problems, flags = [], {}
    known = commands.get(path, {})
    while i < len(argv):
        token = argv[i]
        if token.startswith("-"):
            flag, _, inline = token.partition("=")
            if flag not in known:
                problems.append("unknown flag " + flag)
            elif known[flag]:
                if inline:
                    flags[flag] = inline
                elif i + 1 < len(argv):
                    flags[flag] = argv[i + 1]
                    i += 1
                else:
                    problems.append(flag + " needs a value")
            else:
                flags[flag] = True
        else:
            problems.append("unexpected argument " + token)
        i += 1
    return path, flags, problems


# ---- Configuration keys and their TALOS_* variables, as the binary lists them ------------------------------------

def kind_of(name):
    """`talos config schema`'s kind → the indexed form its variables may take."""
    if name == "string list":
        return "stringArray"
    if name.startswith("list of string or"):
        return "expiringStrings"
    if name.startswith("list of {hostname"):
        return "networks"
    return name


config_keys = {key["path"]: kind_of(key["kind"]) for key in json.load(open(schema_path))["keys"]}
check(len(config_keys) > 40 and "secrets.hmac.current" in config_keys and "db.dsn" in config_keys,
      "read %d configuration keys from `talos config schema`" % len(config_keys))
env_keys = {"TALOS_" + k.upper().replace(".", "_"): k for k in config_keys}
INDEXED_FIELDS = {"stringArray": [None], "expiringStrings": [None, "VALUE", "EXPIRES_AT"],
                  "networks": ["HOSTNAME", "ID", "CONFIG_PATH"]}


def config_key_for(variable):
    """The configuration key a TALOS_* variable sets (ConfigSchema.key(forEnvironment:)), or None."""
    if variable in env_keys:
        return env_keys[variable]
    for name, key in env_keys.items():
        if not variable.startswith(name + "_"):
            continue
        index, _, field = variable[len(name) + 1:].partition("_")
        if index.isdigit() and (field or None) in INDEXED_FIELDS.get(config_keys[key], []):
            return key
    return None


def env_file_variables(path):
    """(variable, value, commented) for each NAME=VALUE line, including commented-out examples."""
    out = []
    for line in read(path).splitlines():
        m = re.match(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out.append((m.group(2), m.group(3), bool(m.group(1))))
    return out


def interpolate(value):
    """Compose variable substitution as with nothing set: the defaults (${VAR:-default}, ${VAR-default}, ${VAR})."""
    def substitute(m):
        return m.group(3) if m.group(3) is not None else ""
    value = re.sub(r"\$\{(\w+)(:?-([^}]*))?\}", substitute, str(value))
    return value.replace("$$", "$")


# ---- The Dockerfile ---------------------------------------------------------------------------------------------

dockerfile = read("Dockerfile")
runtime = dockerfile[dockerfile.rfind("\nFROM "):]
workdir = re.findall(r"^WORKDIR\s+(\S+)", runtime, re.M)
image_workdir = workdir[-1] if workdir else "/"
copies = re.findall(r"^COPY\s+(?!--from)(\S+)\s+(\S+)", runtime, re.M)
image_files = {}
for source, target in copies:
    source_path = os.path.join(root, source)
    if os.path.isdir(source_path):
        for name in os.listdir(source_path):
            image_files[os.path.join(target, name)] = os.path.join(source.rstrip("/"), name)
    else:
        image_files[target] = source
check(re.search(r"^FROM swift:6\.3(-bookworm)?\b", dockerfile, re.M) is not None
      and re.search(r"^FROM debian:bookworm-slim\b", dockerfile, re.M) is not None,
      "Dockerfile builds on swift:6.3 and runs on debian:bookworm-slim")
check("--static-swift-stdlib" in dockerfile and "--product talos" in dockerfile,
      "Dockerfile builds the talos product with --static-swift-stdlib")
user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
check(bool(user) and not user[-1].startswith(("root", "0")), "Dockerfile runs as a non-root user (%s)" % (user[-1] if user else "none"))
entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])", runtime, re.M)
cmd = re.search(r"^CMD\s+(\[.*\])", runtime, re.M)
check(entrypoint is not None and json.loads(entrypoint.group(1)) == ["talos"], 'Dockerfile ENTRYPOINT is ["talos"]')
if cmd:
    path, flags, problems = parse_command(json.loads(cmd.group(1)))
    config = flags.get("--config")
    check(path in SERVICE_COMMANDS and not problems and config in image_files
          and os.path.isfile(os.path.join(root, image_files[config])),
          "Dockerfile CMD is `talos %s` with --config %s copied from %s %s"
          % (path, config, image_files.get(config), "; ".join(problems)))
else:
    check(False, "Dockerfile has a CMD")
exposed = [int(p.split("/")[0]) for line in re.findall(r"^EXPOSE\s+(.*)$", runtime, re.M) for p in line.split()]
check(bool(exposed) and set(exposed) <= {4420, 4421, 4422, 4423}, "Dockerfile EXPOSE %s are Talos ports" % exposed)
health = re.search(r"^HEALTHCHECK\b.*?CMD\s+(.*)$", runtime, re.M | re.S)
tool = health.group(1).split()[0] if health else None
check(health is not None and "/health/alive" in health.group(1)
      and re.search(r"install[^\n]*(\\\n[^\n]*)*\b%s\b" % re.escape(tool or "-"), runtime) is not None,
      "Dockerfile HEALTHCHECK hits /health/alive with %s, installed in the runtime stage" % tool)
dockerignore = read(".dockerignore").split()
check({".build", ".git", "*.db", "talos.env"} <= set(dockerignore), ".dockerignore leaves out .build, .git, *.db, talos.env")

# ---- The compose files ------------------------------------------------------------------------------------------

TALOS_PORTS = {4420, 4421, 4422, 4423, 4430, 4431}  # the servers' and the edge node's
prometheus_config = yaml.safe_load(read("config/prometheus.yml"))
scraped = set()
for job in prometheus_config.get("scrape_configs", []):
    metrics_path = job.get("metrics_path", "/metrics")
    for static in job.get("static_configs", []):
        for target in static.get("targets", []):
            scraped.add((target, metrics_path))


def container_ports(entry):
    """(host port or None, container port) of a `ports:` entry."""
    if isinstance(entry, dict):
        return entry.get("published"), int(entry["target"])
    parts = str(entry).split("/")[0].split(":")
    return (int(parts[-2]) if len(parts) > 1 else None), int(parts[-1])


def environment_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def config_value(config_json, key):
    node = config_json
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


for compose_file in ["docker-compose.oss.yaml", "docker-compose.oel.yaml"]:
    doc = yaml.safe_load(read(compose_file))
    services = doc.get("services", {})
    named_volumes = set((doc.get("volumes") or {}).keys())
    check(bool(services), "%s: has services (%s)" % (compose_file, ", ".join(services)))
    servers = {}
    for name, service in services.items():
        where = "%s: %s" % (compose_file, name)
        image = str(service.get("image", ""))
        is_talos = image.startswith("talos") or "build" in service
        env = environment_of(service)

        # Mounts: bind-mounted files exist and are read-only, named volumes are declared.
        mounts = {}
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                source, target, read_only = volume.get("source"), volume.get("target"), bool(volume.get("read_only"))
            else:
                source, target, *mode = str(volume).split(":")
                read_only = "ro" in (mode[0].split(",") if mode else [])
            mounts[target] = source
            if source.startswith((".", "/")) and os.path.isfile(os.path.join(root, source + ".example")):
                # A secret the operator creates from its committed example (never committed itself).
                check(read_only, "%s mounts %s read-only at %s (cp %s.example %s)" % (where, source, target, source, source))
            elif source.startswith((".", "/")):
                check(os.path.exists(os.path.join(root, source)) and read_only,
                      "%s mounts %s read-only at %s (exists in the repo)" % (where, source, target))
            else:
                check(source in named_volumes, "%s mounts the declared named volume %s at %s" % (where, source, target))

        # env_file: a committed example for each.
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            example = env_file + ".example"
            check(os.path.isfile(os.path.join(root, example)),
                  "%s env_file %s has %s in the repo (cp %s %s)" % (where, env_file, example, example, env_file))
            for variable, value, commented in env_file_variables(example):
                if variable.startswith("TALOS_") and not commented:
                    env.setdefault(variable, value)

        # Every TALOS_* variable is a configuration key.
        for variable in sorted(v for v in env if v.startswith("TALOS_")):
            check(config_key_for(variable) is not None,
                  "%s %s is the configuration key %s" % (where, variable, config_key_for(variable)))
        for variable in sorted(v for v in environment_of(service) if v.startswith("TALOS_SECRETS_")):
            check(False, "%s sets the secret %s in the compose file (use the env_file)" % (where, variable))

        # Ports.
        allowed = (TALOS_PORTS if is_talos else {5432} if "postgres" in image else {9090} if "prometheus" in image
                   else {3000} if "grafana" in image else set())
        published = [container_ports(p) for p in service.get("ports", [])]
        exposed_ports = [int(str(p).split("/")[0]) for p in service.get("expose", [])]
        for host, target in published:
            check(target in allowed and (host is None or int(host) in allowed),
                  "%s publishes %s:%s, allowed %s" % (where, host, target, sorted(allowed)))
        for port in exposed_ports:
            check(port in allowed, "%s exposes %s, allowed %s" % (where, port, sorted(allowed)))

        if not is_talos:
            continue
        # The command: a talos subcommand with real flags; --config is a mounted file.
        command = service.get("command")
        argv = command if isinstance(command, list) else str(command).split() if command else ["serve", "--config", "/etc/talos/oss.json"]
        path, flags, problems = parse_command([str(a) for a in argv])
        check(path in SERVICE_COMMANDS and not problems,
              "%s command `talos %s` is a talos subcommand with known flags%s"
              % (where, " ".join(map(str, argv)), ": " + "; ".join(problems) if problems else ""))
        if path == "proxy":
            # The edge node reads no configuration file: its upstream must be a compose Talos server's API, its
            # admin key a mounted file.
            upstream = re.match(r"https?://([^:/]+):(\d+)", str(flags.get("--upstream", "")))
            check(upstream is not None and upstream.group(1) in services and int(upstream.group(2)) in (4420, 4421),
                  "%s --upstream %s is a compose Talos server's API" % (where, flags.get("--upstream")))
            check(flags.get("--admin-key-file") in mounts,
                  "%s --admin-key-file %s is a mounted file" % (where, flags.get("--admin-key-file")))
            continue
        config_path = flags.get("--config")
        check(config_path is not None and config_path in mounts,
              "%s --config %s is a mounted file (%s)" % (where, config_path, mounts.get(config_path)))
        config_json = {}
        if config_path in mounts and os.path.isfile(os.path.join(root, mounts[config_path])):
            config_json = json.loads(read(mounts[config_path]))
        if path.startswith("serve"):
            mode = path.split()[1] if " " in path else "all"
            http_port = int(env.get("TALOS_SERVE_HTTP_PORT") or config_value(config_json, "serve.http.port")
                            or (4421 if mode == "public" else 4420))
            metrics_port = int(env.get("TALOS_SERVE_METRICS_PORT") or config_value(config_json, "serve.metrics.port")
                               or (4423 if mode == "public" else 4422))
            servers[name] = (mode, http_port, metrics_port)
            reachable = {t for _, t in published} | set(exposed_ports)
            check(http_port in reachable, "%s API port %d is published or exposed" % (where, http_port))
            check(metrics_port in reachable, "%s metrics port %d is published or exposed" % (where, metrics_port))
            if mode == "public":
                check((http_port, metrics_port) == (4421, 4423), "%s (serve public) listens on 4421, metrics 4423" % where)
            test = service.get("healthcheck", {}).get("test") or []
            test = " ".join(test) if isinstance(test, list) else str(test)
            check(re.search(r"127\.0\.0\.1:%d/health/(alive|ready)" % http_port, test) is not None,
                  "%s healthcheck probes its own API port %d" % (where, http_port))
            dsn = env.get("TALOS_DB_DSN") or config_value(config_json, "db.dsn") or "sqlite://./talos.db"
            if dsn.startswith(("sqlite://", "sqlite3://")):
                file = dsn.split("://", 1)[1].split("?")[0]
                directory = os.path.normpath(os.path.join(image_workdir, os.path.dirname(file)))
                check(mounts.get(directory) in named_volumes,
                      "%s keeps its SQLite file %s in a named volume at %s" % (where, file, directory))

        # PostgreSQL: the DSN names the compose db with its user, password and database; migrations run first.
        dsn = env.get("TALOS_DB_DSN")
        if dsn and dsn.startswith(("postgres://", "postgresql://")):
            m = re.match(r"postgres(?:ql)?://([^:@/]+):([^@/]*)@([^:/]+)(?::(\d+))?/([^?]+)", dsn)
            db = services.get(m.group(3), {}) if m else {}
            db_env = environment_of(db)
            check(m is not None and "postgres" in str(db.get("image", ""))
                  and (m.group(1), m.group(2), m.group(5)) == (db_env.get("POSTGRES_USER"), db_env.get("POSTGRES_PASSWORD"), db_env.get("POSTGRES_DB"))
                  and int(m.group(4) or 5432) == 5432,
                  "%s TALOS_DB_DSN points at the compose PostgreSQL service %s with its user, password and database"
                  % (where, m.group(3) if m else "?"))
            depends = service.get("depends_on") or {}
            if path.startswith("serve"):
                migrators = [n for n, s in services.items()
                             if parse_command([str(a) for a in (s.get("command") or [])])[0] == "migrate up"]
                check(any(isinstance(depends, dict) and depends.get(n, {}).get("condition") == "service_completed_successfully"
                          for n in migrators) or "--migrate" in flags,
                      "%s starts after `talos migrate up` completed successfully (%s)" % (where, ", ".join(migrators)))
            check(isinstance(depends, dict) and depends.get(m.group(3) if m else "", {}).get("condition") == "service_healthy",
                  "%s waits for the database to be healthy" % where)

    for name, service in services.items():
        if "postgres" in str(service.get("image", "")):
            check(str(service.get("image")) == "postgres:15", "%s: %s uses postgres:15" % (compose_file, name))
            test = service.get("healthcheck", {}).get("test") or []
            check("pg_isready" in (" ".join(test) if isinstance(test, list) else str(test)),
                  "%s: %s has a pg_isready health check" % (compose_file, name))
        if "prometheus" in str(service.get("image", "")):
            for server, (mode, _, metrics_port) in sorted(servers.items()):
                check(("%s:%d" % (server, metrics_port), "/metrics") in scraped,
                      "%s: prometheus scrapes %s:%d/metrics" % (compose_file, server, metrics_port))
        if "grafana" in str(service.get("image", "")):
            # Grafana: the provisioned data source is the compose Prometheus, the dashboard provider reads the mounted
            # config/grafana/dashboards, and every dashboard there is provisioned.
            mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in service.get("volumes", []) if isinstance(v, str)}
            provisioning = mounts.get("/etc/grafana/provisioning")
            check(provisioning == "./config/grafana/provisioning", "%s: %s mounts config/grafana/provisioning" % (compose_file, name))
            sources = yaml.safe_load(read("config/grafana/provisioning/datasources/prometheus.yaml")).get("datasources", [])
            prometheus_services = [n for n, s in services.items() if "prometheus" in str(s.get("image", ""))]
            check(any(d.get("type") == "prometheus" and d.get("url") == "http://%s:9090" % p
                      for d in sources for p in prometheus_services),
                  "%s: grafana's data source is the compose prometheus (%s)" % (compose_file, ", ".join(d.get("url", "?") for d in sources)))
            providers = yaml.safe_load(read("config/grafana/provisioning/dashboards/talos.yaml")).get("providers", [])
            paths = [p.get("options", {}).get("path") for p in providers]
            check(any(mounts.get(path) == "./config/grafana/dashboards" for path in paths),
                  "%s: grafana's dashboard provider reads the mounted config/grafana/dashboards (%s)" % (compose_file, paths))
    if compose_file.endswith("oel.yaml"):
        admins = [n for n, (mode, _, _) in servers.items() if mode == "admin"]
        publics = [n for n, (mode, _, _) in servers.items() if mode == "public"]
        check(len(admins) >= 2 and len(publics) >= 1 and any("prometheus" in str(s.get("image", "")) for s in services.values()),
              "%s: %d admin replicas, %d public server, prometheus" % (compose_file, len(admins), len(publics)))

# The env example files' variables, commented-out examples included.
for example in sorted(f for f in os.listdir(root) if f.endswith(".env.example")):
    for variable, value, commented in env_file_variables(example):
        if variable.startswith("TALOS_"):
            check(config_key_for(variable) is not None,
                  "%s %s%s is the configuration key %s" % (example, "(commented) " if commented else "", variable, config_key_for(variable)))
        if variable == "TALOS_SECRETS_HMAC_CURRENT" and not commented:
            check(len(value) >= 32, "%s TALOS_SECRETS_HMAC_CURRENT placeholder has >= 32 characters" % example)

failed = sum(1 for line in results if line.startswith("FAIL"))
for line in results:
    print(line)
print("compose-check: %d passed, %d failed" % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
PY
