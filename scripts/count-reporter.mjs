// node:test reporter that counts leaf tests (suites excluded) and writes one JSON object.
export default async function* countReporter(source) {
  const c = { pass: 0, fail: 0, skip: 0, todo: 0 };
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    if (ev.data.details?.type === 'suite') continue;
    if (ev.data.skip) c.skip++;
    else if (ev.data.todo) c.todo++;
    else if (ev.type === 'test:pass') c.pass++;
    else c.fail++;
  }
  yield JSON.stringify(c);
}
