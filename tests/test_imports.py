"""Importing defines: the numerical library loads without AllenNLP or spaCy and changes no
environment variable, and the plugin's two entry points register every component."""
import glob
import json
import os
import re
import subprocess
import sys
import textwrap

from tests.conftest import PROJECT_ROOT

BLOCKED = ("allennlp", "spacy")


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter from the project root; its stdout (it must succeed)."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": PROJECT_ROOT})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_alignment_library_imports_without_allennlp_or_spacy_and_leaves_the_environment_alone():
    output = _run(f"""
        import importlib.abc, json, os, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked: " + name)

        sys.meta_path.insert(0, Block())
        before = dict(os.environ)
        import xlner_allennlp
        import xlner_allennlp.alignment
        import xlner_allennlp.data_layout
        from xlner_allennlp.alignment import align, csls_knn, load_alignment  # noqa: F401
        print(json.dumps({{"changed": sorted(set(before.items()) ^ set(os.environ.items())),
                          "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {BLOCKED!r})}}))
    """)
    assert json.loads(output) == {"changed": [], "loaded": []}


def test_the_blocker_does_block():
    """The finder above must make an AllenNLP import fail, or the test above proves nothing."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked: " + name)

        sys.meta_path.insert(0, Block())
        import xlner_allennlp.plugin
    """)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": PROJECT_ROOT})
    assert result.returncode != 0 and "blocked: allennlp" in result.stderr


def _registered_in_source() -> set:
    """(base class, name) of every ``@Base.register("xlner...")`` in the package's source."""
    names = set()
    for path in glob.glob(os.path.join(PROJECT_ROOT, "xlner_allennlp", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as handle:
            names |= set(re.findall(r'^@(\w+)\.register\("(xlner[-_][\w-]+)"', handle.read(), re.M))
    return {tuple(pair) for pair in names}


_REGISTERED = """
    import json
    from allennlp.common.registrable import Registrable
    print(json.dumps(sorted({(base.__name__, name) for base, names in Registrable._registry.items()
                             for name in names if name.startswith("xlner")})))
"""


def test_allennlp_plugins_file_registers_every_component():
    expected = _registered_in_source()
    assert len(expected) >= 16
    output = _run("from allennlp.common.plugins import import_plugins\nimport_plugins()\n" + textwrap.dedent(_REGISTERED))
    assert {tuple(pair) for pair in json.loads(output)} == expected


def test_include_package_registers_every_component():
    output = _run("from allennlp.common.util import import_module_and_submodules\n"
                  "import_module_and_submodules('xlner_allennlp')\n" + textwrap.dedent(_REGISTERED))
    assert {tuple(pair) for pair in json.loads(output)} == _registered_in_source()
