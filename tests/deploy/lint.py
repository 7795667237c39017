#!/usr/bin/env python3
"""lint.py — checks the deployment files without a container engine or a cluster.

Run from the checkout root: `tests/deploy/lint.py [BIN_DIR]` (default $MONAS_BIN_DIR or
build). It parses docker-compose.yml, deploy/kubernetes/*.yaml, the Dockerfile and the
systemd units, and checks that they reference only what exists:
  - flags and MONAS_* variables, against `monasd --help` and `monas-worker run --help`
    (per binary: a worker container may only use the worker's names);
  - binaries the image installs, the image name, ports (the listen port, containerPort,
    Service targetPort, probe ports), Secret keys, object names that refer to each other;
  - HTTP paths used by probes and health checks, and Prometheus metric names used by the
    autoscalers, against a real monasd started on a loopback port.
It also checks what the deployment promises: a StatefulSet with a volume claim for
monasd, probes and resource requests for workers, non-root containers.
Prints one line per problem and exits 1 if there is any; prints SKIP and exits 0 when
python3-yaml is missing (deploy/install-deps.sh --with-test-tools installs it).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import yaml
except ImportError:
    print("SKIP deploy lint: python3-yaml is not installed "
          "(deploy/install-deps.sh --with-test-tools)")
    sys.exit(0)

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MONAS_BIN_DIR", "build")
K8S = "deploy/kubernetes"
SYSTEMD = "deploy/systemd"
IMAGE = "monas"
# Variables docker-compose.yml reads from the host (documented in its header); the
# containers only see what its `environment:` sections and secrets give them.
COMPOSE_INPUTS = {"MONAS_IMAGE", "MONAS_BIND", "MONAS_PORT", "MONAS_LOG_LEVEL",
                  "MONAS_WORKER_THREADS", "MONAS_TOKENS", "MONAS_WORKER_TOKEN"}

MAX_EXPOSURE = 2.0
problems = []
checked = {"files": 0, "containers": 0, "references": 0}


def problem(where, msg):
    problems.append(f"{where}: {msg}")


# ---------------------------------------------------------------- what exists

def help_names(cmd):
    """Flags (--x) and MONAS_* names in a command's --help output."""
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        sys.exit(f"lint: `{' '.join(cmd)}` failed ({out.returncode}): {out.stderr.strip()}")
    text = out.stdout
    flags = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", text))
    env = set(re.findall(r"\bMONAS_[A-Z0-9_]+\b", text))
    return flags, env


def binaries():
    known = {}
    monasd = os.path.join(BIN_DIR, "monasd")
    worker = os.path.join(BIN_DIR, "monas-worker")
    known["monasd"] = help_names([monasd, "--help"])
    known["monas-worker run"] = help_names([worker, "run", "--help"])
    return known


def live_server():
    """Starts monasd on 127.0.0.1:0 without tokens; returns (process, base URL, tmpdir)."""
    tmp = tempfile.mkdtemp(prefix="monas-lint-")
    port_file = os.path.join(tmp, "port")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONAS_")}
    proc = subprocess.Popen([os.path.join(BIN_DIR, "monasd"), "--listen", "127.0.0.1:0",
                             "--db", os.path.join(tmp, "lint.db"), "--port-file", port_file,
                             "--log-level", "warn"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            sys.exit("lint: monasd did not start")
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, f"http://127.0.0.1:{int(f.read())}", tmp


def http_get(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


# ---------------------------------------------------------------- references

def split_args(args):
    """Flags given in an argument list ("--x", "--x=v")."""
    return [a[2:].split("=", 1)[0] for a in args if isinstance(a, str) and a.startswith("--")]


def which_binary(argv, where):
    """The binary key ("monasd" / "monas-worker run") of a command line, or None."""
    if not argv:
        return "monasd"  # the image's CMD
    name = os.path.basename(str(argv[0]))
    if name == "monasd":
        return "monasd"
    if name == "monas-worker":
        sub = [a for a in argv[1:] if not str(a).startswith("-")]
        if sub[:1] == ["run"]:
            return "monas-worker run"
        problem(where, f"monas-worker must run the `run` service command, got {argv[1:]}")
        return None
    problem(where, f"unknown binary '{argv[0]}' (the image has monasd and monas-worker)")
    return None


def check_use(known, where, binary, flags=(), env=()):
    """Flags and MONAS_* variable names used for one binary."""
    if binary is None:
        return
    kflags, kenv = known[binary]
    for f in flags:
        checked["references"] += 1
        if f not in kflags:
            problem(where, f"flag --{f} is not an option of `{binary}`")
    for e in env:
        if not e.startswith("MONAS_"):
            continue
        checked["references"] += 1
        if e not in kenv:
            problem(where, f"variable {e} is not read by `{binary}`")


def listen_port(env, where):
    v = env.get("MONAS_LISTEN")
    if v is None:
        return None
    m = re.fullmatch(r"(?:\[[0-9a-fA-F:]*\]|[^:\[\]]*):(\d+)", str(v))
    if not m:
        problem(where, f"MONAS_LISTEN '{v}' is not host:port")
        return None
    return int(m.group(1))


def load_yaml_docs(path):
    checked["files"] += 1
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        problem(path, f"does not parse: {e}")
        return []


# ---------------------------------------------------------------- Dockerfile

def check_dockerfile(known):
    path = "Dockerfile"
    checked["files"] += 1
    text = open(path).read()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    if len(stages) < 2:
        problem(path, "expected a multi-stage build")
    if not re.search(r"^ARG DEBIAN=debian:bookworm-slim$", text, re.M):
        problem(path, "base image is not debian:bookworm-slim")
    installed = set()
    for m in re.finditer(r"^COPY --from=\S+ (.+) /usr/local/bin/$", text, re.M):
        installed |= {os.path.basename(p) for p in m.group(1).split()}
    if installed != {"monasd", "monas-worker"}:
        problem(path, f"runtime image installs {sorted(installed)}, want monasd and monas-worker")
    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not user or user[-1].split(":")[0] in ("root", "0"):
        problem(path, "the runtime image must run as a non-root user")
    if not re.search(r"^HEALTHCHECK ", text, re.M):
        problem(path, "no HEALTHCHECK")
    if not re.search(r"^VOLUME \[\"/var/lib/monas\"\]", text, re.M):
        problem(path, "the database directory /var/lib/monas is not a volume")
    env = dict(re.findall(r"(MONAS_[A-Z0-9_]+)=(\S+)", " ".join(
        re.findall(r"^ENV\s+((?:.*\\\n)*.*)$", text, re.M))))
    check_use(known, path, "monasd", env=env)
    if not env.get("MONAS_DB", "").startswith("/var/lib/monas/"):
        problem(path, "MONAS_DB is not on the volume")
    port = listen_port(env, path)
    expose = [int(p) for p in re.findall(r"^EXPOSE\s+(\d+)", text, re.M)]
    if port not in expose:
        problem(path, f"EXPOSE {expose} does not include the listen port {port}")
    cmd = re.search(r"^CMD \[(.*)\]$", text, re.M)
    if not cmd or which_binary(yaml.safe_load("[" + cmd.group(1) + "]"), path) != "monasd":
        problem(path, "the default command is not monasd")
    hc = re.search(r"^HEALTHCHECK (?:.*\\\n)*.*", text, re.M)
    health = set(re.findall(r"https?://[^/\s\"]+(/[\w/.-]*)", hc.group(0) if hc else ""))
    if not health:
        problem(path, "the HEALTHCHECK requests no HTTP path")
    return health


# ---------------------------------------------------------------- compose

def check_compose(known, paths):
    path = "docker-compose.yml"
    docs = load_yaml_docs(path)
    if not docs:
        return
    doc = docs[0]
    text = open(path).read()
    for var in set(re.findall(r"\$\{([A-Z0-9_]+)", text)):
        if var.startswith("MONAS_") and var not in COMPOSE_INPUTS:
            problem(path, f"${{{var}}} is not a documented compose variable")
    for var in COMPOSE_INPUTS:
        if var not in text.split("\nname:")[0]:
            problem(path, f"compose variable {var} is not documented in the header")
    services = doc.get("services", {})
    if set(services) != {"monasd", "worker"}:
        problem(path, f"services {sorted(services)}, want monasd and worker")
    secrets = doc.get("secrets", {})
    for name, svc in services.items():
        where = f"{path} services.{name}"
        checked["containers"] += 1
        image = str(svc.get("image", ""))
        if not re.fullmatch(r"\$\{MONAS_IMAGE:-" + IMAGE + r"(:[\w.-]+)?\}", image):
            problem(where, f"image '{image}' is not the monas image")
        argv = svc.get("command") or []
        if isinstance(argv, str):
            problem(where, "command must be a list")
            argv = argv.split()
        binary = which_binary(argv, where)
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        check_use(known, where, binary, split_args(argv), env)
        if not svc.get("restart"):
            problem(where, "no restart policy")
        if "ports" in svc and name != "monasd":
            problem(where, "only monasd publishes a port")
        for s in svc.get("secrets", []):
            sname = s if isinstance(s, str) else s.get("source")
            if sname not in secrets:
                problem(where, f"secret '{sname}' is not declared")
        for v in env.values():
            m = re.fullmatch(r"/run/secrets/(\w+)", str(v))
            if m and m.group(1) not in [s if isinstance(s, str) else s.get("target")
                                         for s in svc.get("secrets", [])]:
                problem(where, f"{v} is not a secret of this service")
        hc = svc.get("healthcheck", {}).get("test", [])
        for url in re.findall(r"https?://[^\s\"']+", " ".join(map(str, hc))):
            paths.add(re.sub(r"^https?://[^/]+", "", url))
        if binary == "monasd":
            port = listen_port(env, where)
            published = [str(p).rsplit(":", 1)[-1] for p in svc.get("ports", [])]
            if str(port) not in published:
                problem(where, f"listen port {port} is not published ({published})")
            vols = [str(v).split(":") for v in svc.get("volumes", [])]
            db_dir = os.path.dirname(env.get("MONAS_DB", ""))
            if not any(len(v) >= 2 and v[0] in doc.get("volumes", {}) and v[1] == db_dir
                       for v in vols):
                problem(where, f"the database directory {db_dir} is not a named volume")
        else:
            coord = str(env.get("MONAS_COORDINATOR", ""))
            if not re.fullmatch(r"http://monasd:\d+", coord):
                problem(where, f"MONAS_COORDINATOR '{coord}' does not name the monasd service")
            if "deploy" in svc and "replicas" in svc["deploy"]:
                problem(where, "fixed replicas would defeat --scale worker=N")
            if "container_name" in svc:
                problem(where, "container_name prevents --scale")


# ---------------------------------------------------------------- Kubernetes

def pod_containers(obj):
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec, spec.get("containers", [])


def check_kubernetes(known, paths, metrics):
    objs, kust = {}, None
    for fn in sorted(os.listdir(K8S)):
        if fn.endswith((".yaml", ".yml")):
            for d in load_yaml_docs(os.path.join(K8S, fn)):
                if d.get("kind") == "Kustomization":
                    kust = d
                elif "kind" in d:
                    objs[(d["kind"], d["metadata"]["name"])] = (fn, d)
    secret = objs.get(("Secret", "monas-tokens"))
    secret_keys = set(secret[1].get("stringData", {})) if secret else set()
    if not secret:
        problem(K8S, "no Secret monas-tokens (secret.example.yaml)")
    readme = open(os.path.join(K8S, "README.md")).read()
    for key in secret_keys:
        if not re.search(r"--from-(literal|file)=" + re.escape(key) + r"=", readme):
            problem(f"{K8S}/README.md", f"the secret command does not create key '{key}'")
    for (kind, name), (fn, o) in objs.items():
        where = f"{K8S}/{fn} {kind}/{name}"
        if kind != "Namespace" and o["metadata"].get("namespace") != "monas":
            problem(where, "not in namespace monas")
        if kind not in ("StatefulSet", "Deployment"):
            continue
        spec, containers = pod_containers(o)
        labels = o["spec"]["template"]["metadata"].get("labels", {})
        sel = o["spec"]["selector"]["matchLabels"]
        if any(labels.get(k) != v for k, v in sel.items()):
            problem(where, "selector does not match the pod labels")
        psc = spec.get("securityContext", {})
        if not psc.get("runAsNonRoot") or not psc.get("runAsUser"):
            problem(where, "pods must run as a non-root user")
        for vol in spec.get("volumes", []):
            sv = vol.get("secret")
            if sv:
                if sv.get("secretName") != "monas-tokens":
                    problem(where, f"unknown secret {sv.get('secretName')}")
                for item in sv.get("items", []):
                    if item["key"] not in secret_keys:
                        problem(where, f"secret key '{item['key']}' is not in the Secret")
                if psc.get("fsGroup") is None and sv.get("defaultMode", 0o644) & 0o004 == 0:
                    problem(where, "the secret is not readable by the non-root user")
        for c in containers:
            cw = f"{where} container {c['name']}"
            checked["containers"] += 1
            img = c.get("image", "")
            if img.split(":")[0] != IMAGE:
                problem(cw, f"image '{img}' is not the monas image")
            argv = list(c.get("command", [])) + list(c.get("args", []))
            binary = which_binary(argv, cw)
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            check_use(known, cw, binary, split_args(argv), env)
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            for v in env.values():
                if isinstance(v, str) and v.startswith("/var/run/secrets/monas/"):
                    if "/var/run/secrets/monas" not in mounts:
                        problem(cw, f"{v}: the secret is not mounted")
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                hg = c.get(probe, {}).get("httpGet")
                if hg:
                    paths.add(hg["path"])
                    if hg["port"] not in ports and hg["port"] not in ports.values():
                        problem(cw, f"{probe} port {hg['port']} is not a container port")
                ex = c.get(probe, {}).get("exec", {}).get("command", [])
                for url in re.findall(r"\$MONAS_COORDINATOR(/[\w/]+)", " ".join(ex)):
                    paths.add(url)
                    if "MONAS_COORDINATOR" not in env:
                        problem(cw, f"{probe} uses MONAS_COORDINATOR, which is not set")
            if not c.get("readinessProbe") or not c.get("livenessProbe"):
                problem(cw, "needs readiness and liveness probes")
            req = c.get("resources", {}).get("requests", {})
            if "cpu" not in req or "memory" not in req:
                problem(cw, "needs cpu and memory requests")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problem(cw, "allowPrivilegeEscalation must be false")
            if binary == "monasd":
                if kind != "StatefulSet" or o["spec"].get("replicas") != 1:
                    problem(cw, "monasd must be a StatefulSet with one replica")
                port = listen_port(env, cw)
                if port not in ports.values():
                    problem(cw, f"listen port {port} is not a containerPort")
                claims = [t["metadata"]["name"] for t in o["spec"].get("volumeClaimTemplates", [])]
                db_dir = os.path.dirname(env.get("MONAS_DB") or "")
                if mounts.get(db_dir) not in claims:
                    problem(cw, f"the database directory {db_dir} is not on a volume claim")
                svc = objs.get(("Service", o["spec"].get("serviceName")))
                if not svc:
                    problem(cw, "its serviceName is not a Service here")
                else:
                    s = svc[1]["spec"]
                    if any(labels.get(k) != v for k, v in s["selector"].items()):
                        problem(cw, "the Service selector does not match the pods")
                    for sp in s["ports"]:
                        if sp.get("targetPort") not in ports and sp.get("targetPort") not in ports.values():
                            problem(cw, f"Service targetPort {sp.get('targetPort')} is not a container port")
            elif binary == "monas-worker run":
                m = re.fullmatch(r"http://([\w-]+)(?:\.monas\.svc(?:\.cluster\.local)?)?:(\d+)",
                                 str(env.get("MONAS_COORDINATOR", "")))
                svc = objs.get(("Service", m.group(1))) if m else None
                if not svc or int(m.group(2)) not in [p["port"] for p in svc[1]["spec"]["ports"]]:
                    problem(cw, f"MONAS_COORDINATOR {env.get('MONAS_COORDINATOR')} is not a Service port")
    # Autoscalers and scraping refer to the objects above and to real metrics.
    for (kind, name), (fn, o) in objs.items():
        where = f"{K8S}/{fn} {kind}/{name}"
        if kind in ("ScaledObject", "HorizontalPodAutoscaler"):
            t = o["spec"]["scaleTargetRef"]
            if ("Deployment", t["name"]) not in objs:
                problem(where, f"scaleTargetRef {t['name']} is not a Deployment here")
        if kind == "ScaledObject":
            for trig in o["spec"]["triggers"]:
                if trig["type"] != "prometheus":
                    problem(where, f"trigger type {trig['type']}, want prometheus")
                for k in ("serverAddress", "query", "threshold"):
                    if k not in trig["metadata"]:
                        problem(where, f"prometheus trigger without {k}")
                metric_refs(trig["metadata"].get("query", ""), metrics, where)
        if kind == "HorizontalPodAutoscaler":
            for mt in o["spec"]["metrics"]:
                metric_refs(mt.get("external", {}).get("metric", {}).get("name", ""),
                            metrics, where)
        if kind == "ServiceMonitor":
            for ep in o["spec"]["endpoints"]:
                paths.add(ep.get("path", "/metrics"))
                cred = ep.get("authorization", {}).get("credentials", {})
                if cred.get("name") != "monas-tokens" or cred.get("key") not in secret_keys:
                    problem(where, "scraping /metrics needs a read token from the Secret")
    adapter = os.path.join(K8S, "prometheus-adapter-values.yaml")
    for d in load_yaml_docs(adapter):
        for rule in d.get("rules", {}).get("external", []):
            metric_refs(rule.get("seriesQuery", "") + " " + rule.get("name", {}).get("as", ""),
                        metrics, adapter)
    if not kust:
        problem(K8S, "no kustomization.yaml")
    else:
        for r in kust.get("resources", []):
            if not os.path.exists(os.path.join(K8S, r)):
                problem(f"{K8S}/kustomization.yaml", f"resource {r} does not exist")


def metric_refs(text, metrics, where):
    names = re.findall(r"\bmonas_[a-z0-9_]+\b", text)
    if not names:
        problem(where, "refers to no monas_* metric")
    for n in names:
        checked["references"] += 1
        if n not in metrics:
            problem(where, f"metric {n} is not served by monasd's /metrics")


# ---------------------------------------------------------------- systemd

def unit_entries(path):
    """(section, key, value) triples; systemd allows repeated keys."""
    checked["files"] += 1
    section, out = None, []
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if "=" not in line:
            problem(path, f"not a key=value line: {line}")
            continue
        k, v = line.split("=", 1)
        out.append((section, k, v))
    return out


def env_file_names(path):
    checked["files"] += 1
    return [l.split("=", 1)[0].strip() for l in open(path)
            if "=" in l and not l.lstrip().startswith("#")]


def check_systemd(known):
    units = {"monasd.service": ("monasd", "monasd.env.example"),
             "monas-worker@.service": ("monas-worker run", "worker.env.example")}
    for unit, (binary, example) in units.items():
        path = os.path.join(SYSTEMD, unit)
        entries = unit_entries(path)
        svc = [(k, v) for s, k, v in entries if s == "Service"]
        keys = {k for k, _ in svc}
        for must in ("ExecStart", "NoNewPrivileges", "ProtectSystem", "DynamicUser",
                     "CapabilityBoundingSet", "RestrictAddressFamilies", "SystemCallFilter"):
            if must not in keys:
                problem(path, f"no {must}=")
        execs = [v for k, v in svc if k == "ExecStart"]
        for ex in execs:
            argv = ex.split()
            got = which_binary(argv, path)
            if got != binary:
                problem(path, f"ExecStart runs {got}, want {binary}")
            check_use(known, path, got, split_args(argv))
        env = [v.split("=", 1)[0] for k, v in svc if k == "Environment"]
        check_use(known, path, binary, env=env)
        creds = [v.split(":", 1)[0] for k, v in svc if k == "LoadCredential"]
        for k, v in svc:
            for c in re.findall(r"%d/([\w.-]+)", v):
                if c not in creds:
                    problem(path, f"%d/{c} is not a LoadCredential")
        files = [v.lstrip("-") for k, v in svc if k == "EnvironmentFile"]
        ex_path = os.path.join(SYSTEMD, example)
        if not any(os.path.basename(f) == example.replace(".example", "") for f in files):
            problem(path, f"does not read the settings file {example}")
        check_use(known, ex_path, binary, env=env_file_names(ex_path))
        if not re.search(r"^WantedBy=", open(path).read(), re.M):
            problem(path, "no [Install] WantedBy=")
        systemd_analyze(path, unit)


def systemd_analyze(path, unit):
    """systemd's own checks of a unit: `verify` (unknown keys, bad values) and the
    offline `security` exposure score (at most MAX_EXPOSURE, 0 = locked down, 10 =
    unprotected). The unit runs the built binaries; a template as instance 1."""
    tool = shutil.which("systemd-analyze")
    if not tool:
        print(f"SKIP deploy lint of {path} with systemd-analyze: not installed")
        return
    tmp = tempfile.mkdtemp(prefix="monas-units-")
    try:
        name = unit.replace("@.", "@1.")
        with open(os.path.join(tmp, name), "w") as f:
            f.write(open(path).read().replace("/usr/local/bin/", os.path.abspath(BIN_DIR) + "/"))
        unit_path = os.path.join(tmp, name)
        out = subprocess.run([tool, "verify", unit_path], capture_output=True, text=True,
                             timeout=30)
        for line in (out.stdout + out.stderr).splitlines():
            problem(path, f"systemd-analyze verify: {line}")
        out = subprocess.run([tool, "security", "--offline=yes", unit_path],
                             capture_output=True, text=True, timeout=30)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout)
        if not m:
            problem(path, f"systemd-analyze security gave no score: {out.stderr.strip()}")
        elif float(m.group(1)) > MAX_EXPOSURE:
            problem(path, f"systemd exposure {m.group(1)} > {MAX_EXPOSURE}")
        else:
            checked["references"] += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_mentions(known):
    """Every MONAS_* name written anywhere in the deployment files, comments and
    READMEs included, is a variable of one of the binaries or a compose input."""
    names = set(COMPOSE_INPUTS)
    for _, env in known.values():
        names |= env
    files = ["Dockerfile", "docker-compose.yml"] + [
        os.path.join(d, f) for d in (K8S, SYSTEMD) for f in sorted(os.listdir(d))]
    for path in files:
        for n in sorted(set(re.findall(r"\bMONAS_[A-Z0-9_]*[A-Z0-9]\b", open(path).read()))):
            checked["references"] += 1
            if n not in names:
                problem(path, f"mentions {n}, which no binary reads")


def main():
    known = binaries()
    check_mentions(known)
    proc, base, tmp = live_server()
    try:
        status, text = http_get(base, "/metrics")
        if status != 200:
            sys.exit(f"lint: GET /metrics returned {status}")
        metrics = set(re.findall(r"^# TYPE (\S+)", text, re.M))
        paths = set()
        paths |= check_dockerfile(known)
        check_compose(known, paths)
        check_kubernetes(known, paths, metrics)
        check_systemd(known)
        for p in sorted(paths):
            checked["references"] += 1
            st, _ = http_get(base, p)
            if st != 200:
                problem("probes", f"GET {p} answers {st}, want 200")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("deploy lint:", p)
    print(f"deploy lint: {checked['files']} files, {checked['containers']} containers, "
          f"{checked['references']} references checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
