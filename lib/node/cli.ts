// `websocket-streams` command line (bin). Filled in by the Node adapter work.
console.log('websocket-streams: no commands yet');
