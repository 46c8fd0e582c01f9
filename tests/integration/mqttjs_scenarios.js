// MQTT 5 behaviours driven by MQTT.js, a second client library beside paho
// (tests/integration/test_mqttjs.py runs one scenario per call and reads its JSON line).
const mqtt = require('mqtt');
const url = process.env.BROKER_URL;
const base = {protocolVersion: 5, reconnectPeriod: 0};
const done = (result) => process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
const connect = (opts) => new Promise((resolve, reject) => {
  const c = mqtt.connect(url, {...base, ...opts});
  c.once('connect', (ack) => resolve([c, ack]));
  c.once('error', reject);
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
setTimeout(() => { console.error('timed out'); process.exit(1); }, 25000).unref();

const scenarios = {
  // A persistent session away while messages with a Message Expiry wait for it.
  async expiry() {
    const props = {sessionExpiryInterval: 60};
    let [sub] = await connect({clientId: 'js-exp', clean: true, properties: props});
    await sub.subscribeAsync('jx/#', {qos: 1});
    await sub.endAsync();
    const [pub] = await connect({clientId: 'js-exp-pub'});
    await pub.publishAsync('jx/short', 's', {qos: 1, properties: {messageExpiryInterval: 1}});
    await pub.publishAsync('jx/long', 'l', {qos: 1, properties: {messageExpiryInterval: 60}});
    await sleep(2500);
    const got = [];
    sub = mqtt.connect(url, {...base, clientId: 'js-exp', clean: false, properties: props});
    sub.on('message', (t, p, packet) => got.push([t, (packet.properties || {}).messageExpiryInterval]));
    const [ack] = await new Promise((r) => sub.once('connect', (a) => r([a])));
    await pub.publishAsync('jx/sentinel', 'x', {qos: 1});
    while (got.length < 2) await sleep(50);
    done({present: ack.sessionPresent, got});
  },
  // One copy per session with every matching identifier, user properties in order.
  async identifiers() {
    const [sub] = await connect({clientId: 'js-ids'});
    await sub.subscribeAsync('ji/#', {qos: 1, properties: {subscriptionIdentifier: 3}});
    await sub.subscribeAsync('ji/+', {qos: 1, properties: {subscriptionIdentifier: 4}});
    const got = [];
    sub.on('message', (t, p, packet) => got.push([t, packet.properties || {}]));
    const [pub] = await connect({clientId: 'js-ids-pub'});
    await pub.publishAsync('ji/t', 'x', {qos: 1, properties: {
      contentType: 'text/plain', userProperties: {b: '2', a: '1'}, correlationData: Buffer.from('cd')}});
    await pub.publishAsync('ji/sentinel/x', 's', {qos: 1});
    while (got.length < 2) await sleep(50);
    const p = got[0][1];
    done({count: got.length, topic: got[0][0], ids: p.subscriptionIdentifier,
          user: Object.keys(p.userProperties || {}), type: p.contentType,
          correlation: p.correlationData ? Buffer.from(p.correlationData).toString() : null});
  },
  // A shared subscription: each message to one member of the group.
  async shared() {
    const counts = {};
    for (const id of ['js-m1', 'js-m2']) {
      const [m] = await connect({clientId: id});
      counts[id] = 0;
      m.on('message', () => counts[id]++);
      await m.subscribeAsync('$share/g/js/shared', {qos: 1});
    }
    const [pub] = await connect({clientId: 'js-shared-pub'});
    for (let i = 0; i < 20; i++) await pub.publishAsync('js/shared', String(i), {qos: 1});
    while (counts['js-m1'] + counts['js-m2'] < 20) await sleep(50);
    await sleep(300);
    done(counts);
  },
  // A will with a Will Delay: published after the delay, without the delay property.
  async will() {
    const [sub] = await connect({clientId: 'js-will-sub'});
    const got = [];
    sub.on('message', (t, p, packet) => got.push([t, p.toString(), packet.properties || {}]));
    await sub.subscribeAsync('jw/#', {qos: 1});
    const [w] = await connect({clientId: 'js-willer', properties: {sessionExpiryInterval: 30},
      will: {topic: 'jw/gone', payload: 'bye', qos: 1,
             properties: {willDelayInterval: 1, contentType: 'text/plain'}}});
    w.stream.destroy();  // no DISCONNECT: the will is due
    while (got.length < 1) await sleep(50);
    done({topic: got[0][0], payload: got[0][1], type: got[0][2].contentType,
          delay: got[0][2].willDelayInterval === undefined ? null : got[0][2].willDelayInterval});
  },
};

scenarios[process.argv[2]]().catch((e) => { console.error(String(e)); process.exit(1); });
