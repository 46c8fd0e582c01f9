"""A paho-mqtt 1.6 client on its own network thread that records everything it sees.

It never reconnects by itself: a dropped connection is an observable event in these tests."""
import dataclasses
import itertools
import socket
import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from wait_condition import wait_until

MQTTv31, MQTTv311, MQTTv5 = mqtt.MQTTv31, mqtt.MQTTv311, mqtt.MQTTv5
_ids = itertools.count()


def unique_client_id(prefix="t"):
    # MQTT 3.1 limits ids to 23 characters.
    return f"{prefix}{next(_ids)}-{uuid.uuid4().hex[:8]}"[:23]


@dataclasses.dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool


def _code(rc):
    """paho passes ints for 3.x and ReasonCodes for 5.0."""
    return getattr(rc, "value", rc)


class PahoClient:
    def __init__(self, host, port, client_id=None, protocol=MQTTv311, clean_session=True,
                 keepalive=30, session_expiry=None):
        self.host, self.port, self.keepalive = host, port, keepalive
        self.protocol = protocol
        self.client_id = unique_client_id() if client_id is None else client_id
        self.clean_session = clean_session
        self.session_expiry = session_expiry  # MQTT 5 only: seconds the session outlives us
        self.client = mqtt.Client(
            client_id=self.client_id, protocol=protocol, reconnect_on_failure=False,
            clean_session=None if protocol == MQTTv5 else clean_session)
        self._lock = threading.Lock()
        self.messages = []
        self.message_properties = []  # MQTT 5: the Properties of each message, in order
        self.connack = None  # (session_present, code)
        self.connack_properties = None  # MQTT 5
        self.subscription_ids = []  # MQTT 5: each message's Subscription Identifiers
        self.disconnect_code = None
        self.disconnected = threading.Event()
        self.subacks = {}  # mid -> granted QoS / reason codes
        self.unsubacks = set()
        self.acked = set()  # mids whose QoS 1/2 flow (or QoS 0 send) completed
        self.pingresps = 0
        c = self.client
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_unsubscribe = self._on_unsubscribe
        c.on_publish = self._on_publish
        c.on_log = self._on_log

    # -- callbacks (network thread) -----------------------------------------

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack_properties = properties
        self.connack = (bool(flags.get("session present")), _code(rc))

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnect_code = _code(rc)
        self.disconnected.set()

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.messages.append(Message(msg.topic, msg.payload, msg.qos, bool(msg.retain)))
            props = getattr(msg, "properties", None)
            self.message_properties.append(props)
            self.subscription_ids.append(getattr(props, "SubscriptionIdentifier", None))

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.subacks[mid] = [_code(g) for g in granted]

    def _on_unsubscribe(self, client, userdata, mid, *rest):
        self.unsubacks.add(mid)

    def _on_publish(self, client, userdata, mid):
        self.acked.add(mid)

    def _on_log(self, client, userdata, level, buf):
        if buf.startswith("Received PINGRESP"):
            self.pingresps += 1

    # -- actions (test thread) ----------------------------------------------

    def will_set(self, topic, payload, qos=0, retain=False):
        self.client.will_set(topic, payload, qos, retain)
        return self

    def connect(self, timeout=10, expect_code=0):
        kw = {}
        if self.protocol == MQTTv5:
            kw["clean_start"] = self.clean_session
            if self.session_expiry is not None:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self.session_expiry
                kw["properties"] = props
        self.client.connect(self.host, self.port, self.keepalive, **kw)
        self.client.loop_start()
        wait_until(lambda: self.connack is not None or self.disconnected.is_set(), timeout,
                   f"CONNACK for {self.client_id}")
        assert self.connack is not None, f"{self.client_id} lost connection before CONNACK"
        if expect_code is not None:
            assert self.connack[1] == expect_code, f"CONNACK {self.connack} for {self.client_id}"
        return self

    def subscribe(self, topic, qos=0, timeout=10):
        """topic: a filter or a list of (filter, qos). Returns the granted QoS list."""
        rc, mid = self.client.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        wait_until(lambda: mid in self.subacks, timeout, f"SUBACK for {topic}")
        return self.subacks[mid]

    def unsubscribe(self, topic, timeout=10):
        rc, mid = self.client.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        wait_until(lambda: mid in self.unsubacks, timeout, f"UNSUBACK for {topic}")

    def publish(self, topic, payload, qos=0, retain=False, wait=True, timeout=10):
        """With wait, returns once the QoS flow completed (PUBACK / PUBCOMP, or sent for QoS 0)."""
        info = self.client.publish(topic, payload, qos, retain)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, info.rc
        if wait:
            wait_until(lambda: info.mid in self.acked, timeout, f"publish ack on {topic}")
        return info.mid

    def disconnect(self, timeout=10):
        """Clean DISCONNECT, waiting until the network thread has sent it and stopped."""
        self.client.disconnect()
        wait_until(self.disconnected.is_set, timeout, f"{self.client_id} to disconnect")
        self.client.loop_stop()

    def close(self):
        """Teardown: disconnect if still connected, always stop the thread."""
        if not self.disconnected.is_set():
            try:
                self.client.disconnect()
                self.disconnected.wait(5)
            except Exception:
                pass
        self.client.loop_stop()

    def drop(self):
        """Closes the TCP connection without DISCONNECT (an abrupt client death)."""
        sock = self.client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)  # FIN without DISCONNECT; paho sees EOF
        wait_until(self.disconnected.is_set, 10, f"{self.client_id} to notice its dead socket")
        self.client.loop_stop()

    # -- observation ---------------------------------------------------------

    def received(self):
        with self._lock:
            return list(self.messages)

    def count(self):
        with self._lock:
            return len(self.messages)

    def payloads(self, topic=None):
        return [m.payload for m in self.received() if topic is None or m.topic == topic]

    def wait_for_count(self, n, timeout=10):
        wait_until(lambda: self.count() >= n, timeout,
                   f"{n} messages at {self.client_id} (have {self.count()})")
        return self.received()

    def wait_for_payload(self, payload, timeout=10):
        wait_until(lambda: payload in self.payloads(), timeout,
                   f"{payload!r} at {self.client_id}")

    @property
    def is_connected(self):
        return self.connack is not None and not self.disconnected.is_set()
