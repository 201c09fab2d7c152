// The SMSC's own raw rate, the base of the SMPP benchmark's ratio: node-smpp's client sends
// N submit_sm with a window of W to the SMSC on PORT and prints {"messages": N, "seconds": s}.
'use strict';
const smpp = require('smpp');
const [port, total, window] = process.argv.slice(2).map(Number);
const session = smpp.connect({ url: `smpp://127.0.0.1:${port}` }, () => {
  session.bind_transceiver({ system_id: 'blast', password: 'x' }, () => {
    let sent = 0;
    let answered = 0;
    const started = process.hrtime.bigint();
    const next = () => {
      while (sent < total && sent - answered < window) {
        const n = sent++;
        session.submit_sm({ destination_addr: `86139${String(n).padStart(8, '0')}`,
          short_message: 'bench' }, () => {
          answered += 1;
          if (answered === total) {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            process.stdout.write(JSON.stringify({ messages: total, seconds }) + '\n');
            session.close();
            process.exit(0);
          }
          next();
        });
      }
    };
    next();
  });
});
