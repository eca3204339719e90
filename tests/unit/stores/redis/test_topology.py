"""Cluster and Sentinel URLs and clients: what they name, and what they refuse up front."""

from __future__ import annotations

import pytest
import redis.asyncio
from redis.asyncio.sentinel import Sentinel

from openfeature_litestar import ConfigurationError, RedisStore, store_from_url
from openfeature_litestar._stores._redis._codec import Keys
from openfeature_litestar._stores._redis._topology import (
    parse_cluster_url,
    parse_sentinel_url,
)


def test_a_cluster_url_names_its_nodes_credentials_and_options() -> None:
    settings = parse_cluster_url(
        "redis+cluster://flags:s3cret@h1:7000,h2:7001,[::1]/?read_from_replicas=true"
    )
    assert settings.nodes == (("h1", 7000), ("h2", 7001), ("::1", 6379))
    assert settings.options["username"] == "flags"
    assert settings.options["password"] == "s3cret"  # noqa: S105 - the URL's own
    assert settings.options["read_from_replicas"] is True
    assert "s3cret" not in settings.target


def test_a_rediss_cluster_url_uses_tls() -> None:
    settings = parse_cluster_url("rediss+cluster://h1:7000/?ssl_cert_reqs=none")
    assert settings.options["ssl"] is True
    assert settings.options["ssl_cert_reqs"] == "none"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+cluster://h1:7000/2", "only database 0"),
        ("redis+cluster://h1:7000/?read_from_replica=true", "did you mean read_from_replicas"),
        ("redis+cluster://h1:7000,,h2:7001/", "invalid host"),
        ("redis+cluster://h1:x/", "invalid host"),
    ],
)
def test_a_bad_cluster_url_is_refused_in_one_line(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        parse_cluster_url(url)
    assert "\n" not in str(raised.value)


def test_a_sentinel_url_names_sentinels_service_database_and_both_credentials() -> None:
    settings = parse_sentinel_url(
        "rediss+sentinel://app:pw@s1:26379,s2:26380/flags/3"
        "?sentinel_password=spw&ssl_ca_certs=/ca.pem"
    )
    assert settings.sentinels == (("s1", 26379), ("s2", 26380))
    assert settings.service == "flags"
    assert settings.options["db"] == 3
    assert settings.options["password"] == "pw"  # noqa: S105 - the URL's own
    assert settings.options["ssl"] is True
    assert settings.sentinel_options == {"password": "spw"}
    assert "pw" not in settings.target.replace("/flags", "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://s1:26379/", "must name the service"),
        ("redis+sentinel://s1:26379/flags/0/extra", "must name the service"),
        ("redis+sentinel://s1:26379/flags/x", "no number"),
        ("redis+sentinel://s1:26379/flags/0?sentinel_pasword=x", "did you mean"),
    ],
)
def test_a_bad_sentinel_url_is_refused_in_one_line(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        parse_sentinel_url(url)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://h1:7000/",
        "rediss+cluster://h1:7000/",
        "redis+sentinel://s1:26379/flags",
        "rediss+sentinel://s1:26379/flags/0",
    ],
)
def test_store_from_url_builds_a_redis_store_for_every_form(url: str) -> None:
    store = store_from_url(f"{url}?namespace=staging")
    assert isinstance(store, RedisStore)
    assert store.namespace == "staging"


def test_only_a_cluster_tags_the_keys() -> None:
    assert Keys.of("openfeature:", "production").document == "openfeature:production"
    tagged = Keys.of("openfeature:", "production", tagged=True)
    assert tagged.document == "{openfeature:production}"
    assert {tagged.audit, tagged.channel, tagged.usage} == {
        "{openfeature:production}:audit",
        "{openfeature:production}:changes",
        "{openfeature:production}:usage",
    }


def test_given_cluster_and_sentinel_clients_are_accepted() -> None:
    cluster = redis.asyncio.RedisCluster(host="h1", port=7000, username="u")
    store = RedisStore(cluster)
    assert "h1:7000" in repr(store)
    assert store._keys.document == "{openfeature:default}"
    managed = Sentinel([("s1", 26379)]).master_for("flags")  # type: ignore[no-untyped-call]
    store = RedisStore(managed)
    assert "redis+sentinel://s1:26379/flags/0" in repr(store)
    assert store._keys.document == "openfeature:default"
