# xunqin: `make demo` and `make test` do all the set-up on a fresh machine that has
# Python 3.11 and the package registry.

PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
VENV := .venv
# face_recognition's source distribution carries real test photos (tests/test_images).
SDIST := face_recognition-1.3.0
SDIST_SHA256 := 5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
SAMPLES := .cache/$(SDIST)/tests/test_images

.PHONY: demo test check lint typecheck install test-assets serve eval bench bench-face-index bench-rematch load clean

demo: install test-assets
	$(VENV)/bin/xunqin demo

test: install test-assets
	XUNQIN_REQUIRE_SAMPLE_PHOTOS=1 $(VENV)/bin/pytest -n 2 --dist loadfile --durations=15

check: lint typecheck test

# Benchmarks: results as JSON and Markdown under bench/results/, each against a baseline
# run in the same process.
bench: install test-assets
	$(VENV)/bin/python -m evaluation.bench.name_queries --out bench/results
	$(VENV)/bin/python -m evaluation.bench.intake_speed --out bench/results
	$(VENV)/bin/python -m evaluation.bench.pairs --out bench/results
	$(VENV)/bin/python -m evaluation.bench.columnar_speed --out bench/results
	$(VENV)/bin/python -m evaluation.face_ages --out bench/results

# A bounded load test of `xunqin serve` on loopback (10 minutes): officers searching by
# photo and uploading, reviewers deciding, readers listing; figures in bench/results/load.md.
load: install test-assets
	$(VENV)/bin/python -m evaluation.bench.load --seconds 600 --out bench/results

# The overnight re-match at 10,000, 30,000 and 100,000 reports (a tenth as many found
# persons): a full run, an incremental run after 1% new records, and the columnar scorer
# against the per-pair scorer; figures in bench/results/rematch_scale.md. Then the
# columnar scorer against Splink on DuckDB on the same candidate pairs, as the anchor
# (bench/results/splink_anchor.md); then 10,000 reports on 1 and 2 local workers and on
# Ray with 1 and 2 CPUs, and an estimate for 10 million reports on a cluster
# (bench/results/rematch_ray.md); then what a bound on each found person's blocked pairs
# would keep of the true pairs, by three rankings (bench/results/blocking_bound.md).
bench-rematch: install
	$(VENV)/bin/python -m evaluation.bench.rematch_scale --sizes 10000 30000 100000 --out bench/results
	$(VENV)/bin/python -m evaluation.bench.splink_anchor --reports 10000 --out bench/results
	$(VENV)/bin/python -m evaluation.bench.rematch_ray --reports 10000 --out bench/results
	$(VENV)/bin/python -m evaluation.bench.blocking_bound --reports 30000 --out bench/results

# The FAISS index at 100k and 1M face-like vectors (about 12 minutes, 3 GB).
bench-face-index: install
	$(VENV)/bin/python -m evaluation.bench.face_index_scale --sizes 100000 1000000 --out bench/results

# The evaluation report: a dated folder under reports/ (uses ../shared/faces when present).
eval: install
	$(VENV)/bin/xunqin eval

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

serve: install
	$(VENV)/bin/xunqin serve

install: $(VENV)/.installed

test-assets: $(SAMPLES)/obama.jpg

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

$(SAMPLES)/obama.jpg: | $(UV)
	mkdir -p .cache/sdist
	$(TOOLS)/bin/pip download --quiet --no-deps --no-binary :all: \
		--dest .cache/sdist face_recognition==1.3.0
	echo "$(SDIST_SHA256)  .cache/sdist/$(SDIST).tar.gz" | sha256sum --check --quiet
	tar xzf .cache/sdist/$(SDIST).tar.gz -C .cache $(SDIST)/tests/test_images
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .cache .mypy_cache .ruff_cache .pytest_cache
