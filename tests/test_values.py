"""Quantities and image references: the small parsers every rule leans on."""
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from cslint.images import effective_pull_policy, parse_image
from cslint.quantity import ceil_to_gi, format_bytes, parse_quantity


@pytest.mark.parametrize("text,value", [
    ("16Gi", 16 * 2**30), ("17179869184", 17179869184), ("16G", 16 * 10**9), ("1.5Ti", int(1.5 * 2**40)),
    ("500Mi", 500 * 2**20), ("0.5Gi", 2**29), ("100m", Fraction(1, 10)), ("1e3", 1000), (8, 8), ("  2Ki ", 2048),
])
def test_quantities(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "16GB", "Gi", None, True, [], "1.2.3"])
def test_not_quantities(text):
    assert parse_quantity(text) is None


@given(st.integers(min_value=0, max_value=2**20), st.sampled_from(["Ki", "Mi", "Gi", "Ti"]))
def test_binary_roundtrip(n, suffix):
    q = parse_quantity(f"{n}{suffix}")
    assert q == n * {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[suffix]
    assert parse_quantity(format_bytes(q)) == q


@given(st.integers(min_value=1, max_value=2**45))
def test_ceil_to_gi_covers(n):
    assert parse_quantity(ceil_to_gi(n)) >= n
    assert parse_quantity(ceil_to_gi(n)) - n < 2**30


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False), st.sampled_from(["", "k", "M", "G"]))
def test_decimal_quantities_are_exact(d, suffix):
    assert parse_quantity(f"{d}{suffix}") == Fraction(str(d)) * {"": 1, "k": 10**3, "M": 10**6, "G": 10**9}[suffix]


@pytest.mark.parametrize("raw,registry,repo,tag,digest", [
    ("vllm/vllm-openai", "docker.io", "vllm/vllm-openai", None, None),
    ("ubuntu", "docker.io", "library/ubuntu", None, None),
    ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None),
    ("localhost:5000/a/b:1", "localhost:5000", "a/b", "1", None),
    ("us-docker.pkg.dev/p/r/img:v1@sha256:abc", "us-docker.pkg.dev", "p/r/img", "v1", "sha256:abc"),
    ("registry:5000/img", "registry:5000", "img", None, None),
])
def test_image_refs(raw, registry, repo, tag, digest):
    ref = parse_image(raw)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repo, tag, digest)


@pytest.mark.parametrize("image,policy,expected", [
    ("img", None, "Always"), ("img:latest", None, "Always"), ("img:v1", None, "IfNotPresent"),
    ("img@sha256:abc", None, "IfNotPresent"), ("img:latest@sha256:abc", None, "Always"),
    ("img:v1", "Always", "Always"), ("img:latest", "Never", "Never"),
])
def test_pull_policy_defaulting_follows_the_kubelet(image, policy, expected):
    assert effective_pull_policy(image, policy) == expected


@pytest.mark.parametrize("raw", ["", "has space:1", "{{ .Values.image }}", "img@md5", 3])
def test_bad_refs(raw):
    assert parse_image(raw) is None
