// Runs in the page: one MQTT.js client over WebSocket, results in window.mqttTest.
(function () {
  const params = new URLSearchParams(location.search);
  const report = (window.mqttTest = {
    state: 'starting', subscribed: false, messages: [], errors: [],
  });
  const setState = (s) => {
    report.state = s;
    document.getElementById('state').textContent = s;
  };
  if (typeof mqtt === 'undefined') {
    setState('mqtt.min.js did not load');
    return;
  }
  const topic = params.get('topic');
  const client = mqtt.connect(params.get('broker'), {
    clientId: params.get('clientId'),
    protocolVersion: 4,
    reconnectPeriod: 0, // a dropped connection is a test failure, not something to hide
    connectTimeout: 10000,
  });
  client.on('connect', () => {
    setState('connected');
    client.subscribe(topic, { qos: 1 }, (err, granted) => {
      if (err) {
        report.errors.push('subscribe: ' + err.message);
        return;
      }
      report.granted = granted.map((g) => g.qos);
      report.subscribed = true;
      setState('subscribed');
      client.publish(topic, 'from-browser', { qos: 1 }, (perr) => {
        if (perr) report.errors.push('publish: ' + perr.message);
      });
    });
  });
  client.on('message', (t, payload) => {
    const text = new TextDecoder().decode(payload);
    report.messages.push({ topic: t, payload: text });
    const li = document.createElement('li');
    li.textContent = t + ' ' + text;
    document.getElementById('messages').appendChild(li);
  });
  client.on('error', (e) => report.errors.push('error: ' + e.message));
  client.on('close', () => setState(report.state + ' (closed)'));
})();
