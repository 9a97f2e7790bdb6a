"""Packaging for xlner-allennlp: an AllenNLP plugin for zero-shot cross-lingual NER."""
from setuptools import Extension, find_packages, setup

setup(
    name="xlner-allennlp",
    version="0.1.0",
    description="Zero-shot cross-lingual NER and word-vector alignment as an AllenNLP plugin",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(exclude=["tests", "tests.*", "benchmarks"]),
    package_data={"xlner_allennlp": ["data_layout.json"]},
    # The compiled word2vec text parser (alignment/vectors.py uses numpy's parser when it is not
    # built: optional, so an install without a C compiler still works, only slower).
    ext_modules=[Extension("xlner_allennlp.alignment._textparse", ["xlner_allennlp/alignment/_textparse.c"],
                           extra_compile_args=["-O2"], optional=True)],
    python_requires=">=3.11",
    # Exact versions live in requirements.lock; allennlp 2.10.1 pins torch<1.13, which has no
    # Python 3.11 build, so the lock is installed with --no-deps (see Makefile).
    install_requires=[
        "allennlp==2.10.1",
        "torch",
        "overrides",
        "spacy",
        "jsonnet",
        "faiss-cpu",
        "numpy",
    ],
    extras_require={"plot": ["matplotlib"]},
)
