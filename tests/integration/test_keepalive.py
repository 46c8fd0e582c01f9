"""Keepalive and pre-CONNECT timeouts (issue 4). Bounded waits only, no timing thresholds."""
import time

import pytest

import raw_mqtt
from broker_process import broker_kind
from raw_mqtt import MQTT5, MQTT311

CONNECT_TIMEOUT = 2  # shardmq --connect-timeout for the test below
# Keepalive 1 s should end a silent connection after ~1.5 s; Mosquitto 2.0 checks keepalives
# coarsely (observed 4-6 s), so the bound is generous. It is a deadline, not a threshold.
KEEPALIVE_BOUND = 10


@pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["v311", "v5"])
def test_silent_client_disconnected_after_keepalive(clients, version):
    c = clients.raw()
    c.connect("silent", version, keepalive=1)
    for p in c.read_until_closed(KEEPALIVE_BOUND):
        assert version == MQTT5 and p.type == raw_mqtt.DISCONNECT, p  # e.g. 0x8D


def test_pinging_client_stays_connected(clients):
    c = clients.raw()
    c.connect("pinger", keepalive=1)
    for _ in range(6):  # ~3 s of a client pinging twice per keepalive interval
        time.sleep(0.5)  # the client's ping cadence, not a wait for an outcome
        c.send(raw_mqtt.pingreq_packet())
        assert c.read_packet(5).type == raw_mqtt.PINGRESP


def test_keepalive_zero_never_times_out_while_others_do(clients):
    forever = clients.raw()
    forever.connect("ka0", keepalive=0)
    short = clients.raw()
    short.connect("ka1", keepalive=1)
    assert short.read_until_closed(KEEPALIVE_BOUND) == []
    forever.send(raw_mqtt.pingreq_packet())
    assert forever.read_packet().type == raw_mqtt.PINGRESP


@pytest.mark.broker_options(connect_timeout=CONNECT_TIMEOUT)
def test_socket_without_connect_is_closed(clients):
    if broker_kind() == "mosquitto":
        pytest.skip("Mosquitto's pre-CONNECT timeout is fixed at ~90 s (checked by hand)")
    idle = clients.raw()
    assert idle.read_until_closed(CONNECT_TIMEOUT + 5) == []
