// The SMSC the SMPP tests talk to: node-smpp's server (a third-party SMPP stack), scripted.
//
//   node smsc.js [port]     listens on loopback for SMPP (on a free port unless given) and on
//                           a free port for control; prints {"smpp": port, "control": port}
//                           on its first stdout line; exits when its stdin closes.
//
// It behaves as the contract's carrier does, by the destination's last four digits:
//   0001 -> a receipt stat:UNDELIV    0002 -> no receipt ever
//   0003 -> submit_sm refused (ESME_RSUBMITFAIL)    else -> a receipt stat:DELIVRD
// Each part of a long message gets its own message id and its own receipt; parts are
// reassembled by their UDH reference, so tests read back exactly the text that arrived.
//
// Control (HTTP on loopback): GET /messages (every submit_sm, reassembled), GET /stats,
// POST /config {rejectSystemIds, throttleEvery, receiptFirst, receiptDelayMs, ignoreUnbind,
// closeAfterSubmits, dieAfterSubmits, silent}, POST /mo {source_addr, destination_addr, text} (a reply to every bound
// session), POST /drop (close every session now).
'use strict';

const http = require('http');
const smpp = require('smpp');

const config = {
  rejectSystemIds: [],
  throttleEvery: 0, // every Nth submit_sm answered ESME_RTHROTTLED (0: never)
  receiptFirst: false, // send the receipt before the submit_sm_resp
  receiptDelayMs: 20,
  ignoreUnbind: false, // answer no unbind_resp, just close
  closeAfterSubmits: 0, // close the session after this many submit_sm (0: never)
  dieAfterSubmits: 0, // after this many submit_sm, close every session and refuse binds
  silent: false, // take submit_sm and answer nothing (the line stays open)
};
let dead = false;
const parts = []; // every submit_sm accepted: {id, source, destination, ref, total, seq, text}
const stats = { binds: 0, bindsRefused: 0, submits: 0, throttled: 0, refused: 0, unbinds: 0 };
const sessions = new Set();
let nextId = 1;

function receiptText(id, stat) {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  const stamp = `${pad(now.getUTCFullYear() % 100)}${pad(now.getUTCMonth() + 1)}` +
    `${pad(now.getUTCDate())}${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}`;
  const dlvrd = stat === 'DELIVRD' ? '001' : '000';
  return `id:${id} sub:001 dlvrd:${dlvrd} submit date:${stamp} done date:${stamp} ` +
    `stat:${stat} err:000 text:`;
}

function sendReceipt(session, part, stat) {
  const state = stat === 'DELIVRD' ? 2 : 5; // DELIVERED, UNDELIVERABLE
  session.deliver_sm({
    source_addr: part.destination,
    destination_addr: part.source,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
    short_message: receiptText(part.id, stat),
    receipted_message_id: part.id,
    message_state: state,
  });
}

function partOf(pdu) {
  const sm = pdu.short_message || {};
  const message = typeof sm === 'string' ? sm : (sm.message || '');
  let ref = null;
  let total = 1;
  let seq = 1;
  for (const udh of (sm.udh || [])) {
    if (udh[0] === 0x00 && udh[1] === 0x03) {
      ref = udh[2]; total = udh[3]; seq = udh[4];
    }
  }
  return {
    source: pdu.source_addr, destination: pdu.destination_addr, ref, total, seq,
    text: Buffer.isBuffer(message) ? message.toString('hex') : message,
    dataCoding: pdu.data_coding,
  };
}

function onSubmit(session, pdu) {
  stats.submits += 1;
  if (config.silent) return;
  if (config.throttleEvery && stats.submits % config.throttleEvery === 0) {
    stats.throttled += 1;
    session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
    return;
  }
  const part = partOf(pdu);
  const ending = (part.destination || '').slice(-4);
  if (ending === '0003') {
    stats.refused += 1;
    session.send(pdu.response({ command_status: smpp.ESME_RSUBMITFAIL }));
    return;
  }
  part.id = `smsc-${nextId++}`;
  parts.push(part);
  const stat = ending === '0001' ? 'UNDELIV' : ending === '0002' ? null : 'DELIVRD';
  if (stat && config.receiptFirst) sendReceipt(session, part, stat);
  session.send(pdu.response({ message_id: part.id }));
  if (stat && !config.receiptFirst) {
    setTimeout(() => sessions.has(session) && sendReceipt(session, part, stat),
      config.receiptDelayMs);
  }
  if (config.closeAfterSubmits && stats.submits >= config.closeAfterSubmits) {
    setImmediate(() => session.close());
  }
  if (config.dieAfterSubmits && stats.submits >= config.dieAfterSubmits && !dead) {
    dead = true;
    setImmediate(() => { for (const s of sessions) s.close(); sessions.clear(); });
  }
}

const server = smpp.createServer((session) => {
  session.on('error', () => sessions.delete(session));
  session.on('close', () => sessions.delete(session));
  session.on('bind_transceiver', (pdu) => {
    if (dead || config.rejectSystemIds.includes(pdu.system_id)) {
      stats.bindsRefused += 1;
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    stats.binds += 1;
    sessions.add(session);
    session.send(pdu.response());
  });
  session.on('submit_sm', (pdu) => onSubmit(session, pdu));
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('deliver_sm_resp', () => {});
  session.on('unbind', (pdu) => {
    stats.unbinds += 1;
    sessions.delete(session);
    if (!config.ignoreUnbind) session.send(pdu.response());
    session.close();
  });
});

function reassembled() {
  const messages = [];
  const groups = new Map();
  for (const part of parts) {
    if (part.ref === null) {
      messages.push({ destination: part.destination, source: part.source, text: part.text,
        ids: [part.id], parts: 1, dataCoding: part.dataCoding });
      continue;
    }
    const key = `${part.destination}/${part.ref}/${part.total}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(part);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.seq - b.seq);
    messages.push({ destination: group[0].destination, source: group[0].source,
      text: group.map((p) => p.text).join(''), ids: group.map((p) => p.id),
      parts: group.length, complete: group.length === group[0].total,
      dataCoding: group[0].dataCoding });
  }
  return messages;
}

function body(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data ? JSON.parse(data) : {}));
  });
}

const control = http.createServer(async (req, res) => {
  const answer = (value) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'GET' && req.url === '/messages') return answer(reassembled());
  if (req.method === 'GET' && req.url === '/stats') {
    return answer({ ...stats, sessions: sessions.size, parts: parts.length });
  }
  if (req.method === 'POST' && req.url === '/config') {
    Object.assign(config, await body(req));
    return answer(config);
  }
  if (req.method === 'POST' && req.url === '/mo') {
    const mo = await body(req);
    for (const session of sessions) {
      session.deliver_sm({ source_addr: mo.source_addr, destination_addr: mo.destination_addr,
        esm_class: 0, short_message: mo.text });
    }
    return answer({ sent: sessions.size });
  }
  if (req.method === 'POST' && req.url === '/drop') {
    const dropped = sessions.size;
    for (const session of sessions) session.close();
    sessions.clear();
    return answer({ dropped });
  }
  res.writeHead(404);
  res.end();
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  control.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ smpp: server.address().port,
      control: control.address().port }) + '\n');
  });
});
process.stdin.on('end', () => process.exit(0)); // the test process went away: so do we
process.stdin.resume();
