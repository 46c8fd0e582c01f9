"""SIGTERM: a clean, bounded shutdown that connected clients can observe."""
import raw_mqtt
from broker_process import STOP_TIMEOUT
from paho_client import MQTTv5
from raw_mqtt import MQTT5


def test_sigterm_with_clients_connected(broker, clients):
    paho3 = clients.paho()
    paho3.subscribe("sd/#")
    paho5 = clients.paho(protocol=MQTTv5)
    raw3 = clients.raw()
    raw3.connect("sdraw3")
    raw5 = clients.raw()
    raw5.connect("sdraw5", MQTT5)
    idle = clients.raw()  # connected at TCP level only, no CONNECT yet
    paho5.publish("sd/t", b"live")
    paho3.wait_for_payload(b"live")

    code = broker.stop(timeout=STOP_TIMEOUT)
    assert not broker.killed, "broker ignored SIGTERM"
    assert code == 0

    # Every client sees its connection end (the broker process is gone, so no waiting races).
    assert raw3.read_until_closed(5) == []
    for p in raw5.read_until_closed(5):
        # MQTT 5 allows a DISCONNECT (e.g. 0x8B Server shutting down) before the close.
        assert p.type == raw_mqtt.DISCONNECT, p
    assert idle.read_until_closed(5) == []
    for c in (paho3, paho5):
        assert c.disconnected.wait(5), f"{c.client_id} did not see the shutdown"
        assert c.disconnect_code != 0


def test_sigterm_when_idle(broker):
    assert broker.stop() == 0
    assert not broker.killed
