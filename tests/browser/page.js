// The test page's script: an OpenFeature web client on OFREP, driven by the test.
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

window.flags = {
  changes: 0,
  async start(baseUrl, token, context) {
    const provider = new OFREPWebProvider({
      baseUrl,
      headers: [['Authorization', `Bearer ${token}`]],
      pollInterval: 0, // no polling: changes must come through the event stream
    });
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, () => {
      window.flags.changes += 1;
    });
    await OpenFeature.setContext(context);
    await OpenFeature.setProviderAndWait(provider);
  },
  async setContext(context) {
    await OpenFeature.setContext(context);
  },
  // kinds: flag key -> "boolean" | "string" | "number" | "object"
  details(kinds) {
    const client = OpenFeature.getClient();
    const getters = {
      boolean: (key) => client.getBooleanDetails(key, false),
      string: (key) => client.getStringDetails(key, ''),
      number: (key) => client.getNumberDetails(key, -1),
      object: (key) => client.getObjectDetails(key, {}),
    };
    const answers = {};
    for (const [key, kind] of Object.entries(kinds)) {
      const d = getters[kind](key);
      answers[key] = { value: d.value, variant: d.variant ?? null, reason: d.reason };
    }
    return answers;
  },
};
