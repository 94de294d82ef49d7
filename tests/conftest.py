from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
TODAY = date(2026, 11, 23)
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    from model_backends.local_engine import LocalEngine

    return LocalEngine(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="session")
def labels():
    import yaml

    return yaml.safe_load((SAMPLES / "labels.yaml").read_text())


def run_agents(path: Path, engine):
    """The five agents in graph order, without the graph: for agent-level assertions."""
    from agents.classifier import ClassifierInput, classify
    from agents.clause_extraction import ExtractionInput, extract_clauses
    from agents.compliance import ComplianceInput, check_compliance
    from agents.redlining import RedliningInput, propose_redlines
    from agents.renewal_leverage import RenewalInput, analyse_renewal
    from document_io.loader import load_document

    document = load_document(path)
    profile = classify(ClassifierInput(document=document, our_names=["Northwind Systems"]))
    extraction = extract_clauses(ExtractionInput(document=document), engine)
    compliance = check_compliance(ComplianceInput(document=document, profile=profile, extraction=extraction), engine.library)
    redlines = propose_redlines(RedliningInput(document=document, compliance=compliance, profile=profile), engine)
    brief = analyse_renewal(RenewalInput(document=document, extraction=extraction, today=TODAY))
    return document, profile, extraction, compliance, redlines, brief


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def chrome(download_dir: Path | None = None):
    """Debian's chromium, headless, driven by chromium-driver (the browser downloads of test tools fail offline)."""
    import os

    assert os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), "install.sh installs chromium and chromium-driver"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    if download_dir is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    driver.download_dir = download_dir
    return driver


@pytest.fixture
def browser(tmp_path):
    """A browser for one test, downloading into its tmp_path (CLAUSEFLOW_SKIP_BROWSER=1 skips browser tests)."""
    import os

    if os.environ.get("CLAUSEFLOW_SKIP_BROWSER") == "1":
        pytest.skip("CLAUSEFLOW_SKIP_BROWSER=1")
    driver = chrome(tmp_path)
    yield driver
    driver.quit()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(data: Path, today: str = "2026-11-23"):
    """`app.py serve` on a free port over `data` (and its database), answering /health; yields the base URL, stops it
    after."""
    import subprocess

    port = free_port()
    env = {**app_env(data), "CLAUSEFLOW_TODAY": today}
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(base + "/health", server)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_until_answering(url: str, process, timeout_s: float = 60) -> None:
    """Poll `url` until it answers; fail with the process's stderr if it exits first."""
    import time
    import urllib.request

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError((process.stderr.read().decode() if process.stderr else "") or "the server exited")
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


def screenshot(driver, name: str) -> None:
    """Save the whole page as CLAUSEFLOW_SCREENSHOTS/<name>.png when that folder is set (for looking at the pages)."""
    import os

    folder = os.environ.get("CLAUSEFLOW_SCREENSHOTS")
    if folder:
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1400, min(height + 40, 4000))
        driver.save_screenshot(os.path.join(folder, f"{name}.png"))
        driver.set_window_size(1400, 1000)


# --- the two stores: SQLite files (the default) and a shared PostgreSQL database -------------------------------

POSTGRES_SCRIPT = ROOT / "scripts" / "postgres.sh"


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the session, started by the project's own script and stopped after; or the one
    CLAUSEFLOW_TEST_POSTGRES_URL names (its user must be allowed to create databases)."""
    import os
    import shutil
    import subprocess
    import tempfile

    given = os.environ.get("CLAUSEFLOW_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    # not under pytest's tmp folders: as root the server runs as the `postgres` user, who cannot enter those
    folder = tempfile.mkdtemp(prefix="clauseflow-pg-")
    os.chmod(folder, 0o755)
    started = subprocess.run([str(POSTGRES_SCRIPT), "start", f"{folder}/data", str(free_port())], capture_output=True,
                             text=True, timeout=120)
    assert started.returncode == 0, f"PostgreSQL did not start: {started.stderr.strip()} (install.sh installs it)"
    urls = dict(line.split("=", 1) for line in started.stdout.split())
    POSTGRES_ROLES["owner"], POSTGRES_ROLES["app"] = urls["CLAUSEFLOW_DATABASE_OWNER_URL"], urls["CLAUSEFLOW_DATABASE_URL"]
    try:
        yield POSTGRES_ROLES["owner"]  # creates the tests' databases, so owns them; opening one migrates it
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", f"{folder}/data"], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


POSTGRES_ROLES: dict[str, str] = {}  # "owner" / "app" -> that role's URL on the test server (scripts/postgres.sh)


def as_role(url: str, role_url: str) -> str:
    """`url`'s database reached as the role of `role_url` (user and password), e.g. the application's role."""
    return role_url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


DATABASES: dict[Path, str] = {}  # a data folder -> the PostgreSQL database its tests put the records in


def new_database(server: str, template: str | None = None) -> str:
    """A fresh database on the test server (or a copy of `template`, which no one may be connected to); its URL."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    server = server.rsplit("/", 1)[0] + "/postgres"  # the maintenance database: never the one being copied
    with psycopg.connect(server, autocommit=True) as admin:
        if template is None:
            admin.execute(f"CREATE DATABASE {name}")
        else:
            from graphs.database import close_pools
            from graphs.review_graph import close_postgres_checkpointers

            close_pools(template)  # this process's connections to the template end; other processes' are ended
            close_postgres_checkpointers(template)
            source = template.rsplit("/", 1)[1]
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (source,))
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
    return server.rsplit("/", 1)[0] + "/" + name


def records_on(request, data: Path) -> Path:
    """A module fixture parametrised with "sqlite" / "postgres": `data`, with its records in a fresh database on the
    test server when the parameter is postgres (the registry app_env, config_for and copy_data read)."""
    if request.param == "postgres":
        DATABASES[data] = new_database(request.getfixturevalue("postgres_server"))
    return data


def copy_data(source: Path, target: Path) -> Path:
    """A copy of a data folder with its records: the files, and on PostgreSQL a copy of its database."""
    import shutil

    shutil.copytree(source, target)
    if source in DATABASES:
        DATABASES[target] = new_database(DATABASES[source], template=DATABASES[source])
    return target


def audit_store_for(data_dir: Path):
    return DATABASES.get(data_dir) or data_dir / "reviews.sqlite"


def config_for(data_dir: Path):
    """The ReviewConfig a process started on `data_dir` would read (database included)."""
    from graphs.configuration import ReviewConfig

    return ReviewConfig.from_env(data_dir, "local").model_copy(update={"database_url": DATABASES.get(data_dir)})


def app_env(data_dir: Path) -> dict:
    """The environment for app.py on `data_dir`."""
    import os

    env = {**os.environ, "CLAUSEFLOW_DATA_DIR": str(data_dir), "CLAUSEFLOW_TODAY": "2026-11-23", "COLUMNS": "200"}
    if data_dir in DATABASES:
        env["CLAUSEFLOW_DATABASE_URL"] = DATABASES[data_dir]
    return env


@contextmanager
def write_lock_held(data_dir: Path):
    """Another process holding the decision log's write lock (a batch mid-commit, a stuck client)."""
    if data_dir not in DATABASES:
        import sqlite3

        holder = sqlite3.connect(data_dir / "reviews.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        import psycopg

        from graphs.database import _lock_key

        with psycopg.connect(DATABASES[data_dir], autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (_lock_key("reviews"),))
            yield


class StoreUnderTest:
    """Which store a test runs on, and what a test needs to reach it directly."""

    def __init__(self, kind: str, url: str | None) -> None:
        self.kind, self.url = kind, url

    def audit_store(self, data_dir: Path):
        return self.url or data_dir / "reviews.sqlite"

    def audit(self, data_dir: Path):
        from graphs.audit_log import AuditLog

        return AuditLog(self.audit_store(data_dir))

    def raw_connection(self, data_dir: Path | None):
        """A plain client connection to the decision log's database, around the application (DB-API)."""
        if self.url is None:
            import sqlite3

            return sqlite3.connect(data_dir / "reviews.sqlite", isolation_level=None)
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    @property
    def refused(self) -> type[Exception]:
        """What the database raises when a trigger refuses a change."""
        if self.url is None:
            import sqlite3

            return sqlite3.IntegrityError
        import psycopg

        return psycopg.errors.RestrictViolation


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, monkeypatch):
    """Runs a test on each store: on PostgreSQL every process the test starts gets CLAUSEFLOW_DATABASE_URL for a
    fresh database of its own."""
    if request.param == "sqlite":
        monkeypatch.delenv("CLAUSEFLOW_DATABASE_URL", raising=False)
        yield StoreUnderTest("sqlite", None)
    else:
        yield from _postgres_store(request, monkeypatch)


@pytest.fixture
def postgres_store(request, monkeypatch):
    """A test that is about the shared store only (a cluster's batch)."""
    yield from _postgres_store(request, monkeypatch)


def _postgres_store(request, monkeypatch):
    from graphs.database import close_pools
    from graphs.review_graph import close_postgres_checkpointers

    url = new_database(request.getfixturevalue("postgres_server"))
    monkeypatch.setenv("CLAUSEFLOW_DATABASE_URL", url)
    try:
        yield StoreUnderTest("postgres", url)
    finally:
        close_pools(url)
        close_postgres_checkpointers(url)


@pytest.fixture(scope="session", autouse=True)
def _no_database_from_the_caller():
    """Tests choose their store; a CLAUSEFLOW_DATABASE_URL in the caller's shell would move every test onto it."""
    import os

    os.environ.pop("CLAUSEFLOW_DATABASE_URL", None)


@pytest.fixture(scope="session")
def ray_cluster():
    """A Ray head and one more worker node on this machine (one CPU each), started by the project's own script with
    token authentication and stopped after; its address. Every process the tests start gets the cluster's token."""
    import os
    import shutil
    import subprocess
    import tempfile

    script = ROOT / "scripts" / "ray_cluster.sh"
    folder = Path(tempfile.mkdtemp(prefix="clauseflow-ray-"))  # short: Ray's sockets live under it
    env = {**os.environ, "RAY": str(Path(sys.executable).with_name("ray"))}
    started = subprocess.run([str(script), "start", str(folder), str(free_port())], capture_output=True, text=True,
                             env=env, timeout=180)
    assert started.returncode == 0, f"Ray did not start: {started.stderr[-2000:]}"
    settings = dict(line.split("=", 1) for line in started.stdout.split())
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")}
    os.environ.update(RAY_AUTH_MODE=settings["RAY_AUTH_MODE"], RAY_AUTH_TOKEN_PATH=settings["RAY_AUTH_TOKEN_PATH"])
    RAY_CLUSTER["folder"] = folder
    try:
        yield settings["CLAUSEFLOW_RAY_ADDRESS"]
    finally:
        subprocess.run([str(script), "stop", str(folder)], capture_output=True, env=env, timeout=180)
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        shutil.rmtree(folder, ignore_errors=True)


RAY_CLUSTER: dict[str, Path] = {}  # "folder": the session cluster's folder (scripts/ray_cluster.sh add-node takes it)


class CuadPaper:
    """CUAD train and dev contracts as the pipeline reads them (each rebuilt as a DOCX and loaded), built once per test
    session for the tests that hold the reading to real paper."""

    def __init__(self):
        from evals.datasets import open_dataset

        self._contracts = {c.id: (split, c) for split in ("train", "dev") for c in open_dataset("cuad", None).contracts(split)}
        self._documents: dict = {}

    def ids(self, split: str | None = None) -> list[str]:
        return [i for i, (s, _) in self._contracts.items() if split in (None, s)]

    def split(self, contract_id: str) -> str:
        return self._contracts[contract_id][0]

    def contract(self, contract_id: str):
        return self._contracts[contract_id][1]

    def find(self, prefix: str) -> str:
        return next(i for i in self._contracts if i.startswith(prefix))

    def document(self, contract_id: str):
        from evals.review_eval import as_word_document

        if contract_id not in self._documents:
            self._documents[contract_id] = as_word_document(self.contract(contract_id))
        return self._documents[contract_id]


@pytest.fixture(scope="session")
def cuad_paper() -> CuadPaper:
    from evals.datasets import DatasetUnavailable

    try:
        return CuadPaper()
    except DatasetUnavailable:
        pytest.skip("no CUAD in ../shared")
