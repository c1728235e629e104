// Passkeys (WebAuthn) on the sign-in and passkeys pages: the browser's side of the ceremony.
// The server's options (py_webauthn's JSON, binary parts in base64url) become the ArrayBuffers
// navigator.credentials wants, and its answer goes back as JSON the server checks. Each call
// resolves to a JSON string: {"ok": true, "credential": "..."} or {"ok": false, "error": name}
// (NotAllowedError: cancelled or timed out), which the page's event handler turns into words.
(() => {
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  // WebAuthn here, and (when the server names them) this page at one of the passkeys' origins:
  // a page reached another way (an IP address, say) cannot use this site's passkeys.
  const supported = (origins) =>
    typeof window.PublicKeyCredential === "function" &&
    !!navigator.credentials &&
    (!origins || origins.includes(window.location.origin));
  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));
  const outcome = (promise, encode) =>
    promise.then(
      (credential) => JSON.stringify({ ok: true, credential: JSON.stringify(encode(credential)) }),
      (error) => JSON.stringify({ ok: false, error: (error && error.name) || "Error" }),
    );
  const common = (credential) => ({
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  });
  const unsupported = () => Promise.resolve(JSON.stringify({ ok: false, error: "NotSupportedError" }));

  window.daPasskeys = {
    supported,
    create(optionsJson) {
      if (!supported()) return unsupported();
      const options = JSON.parse(optionsJson);
      const publicKey = {
        ...options,
        challenge: toBytes(options.challenge),
        user: { ...options.user, id: toBytes(options.user.id) },
        excludeCredentials: descriptors(options.excludeCredentials),
      };
      return outcome(navigator.credentials.create({ publicKey }), (credential) => ({
        ...common(credential),
        response: {
          clientDataJSON: toText(credential.response.clientDataJSON),
          attestationObject: toText(credential.response.attestationObject),
          transports: credential.response.getTransports ? credential.response.getTransports() : [],
        },
      }));
    },
    get(optionsJson) {
      if (!supported()) return unsupported();
      const options = JSON.parse(optionsJson);
      const publicKey = {
        ...options,
        challenge: toBytes(options.challenge),
        allowCredentials: descriptors(options.allowCredentials),
      };
      return outcome(navigator.credentials.get({ publicKey }), (credential) => {
        const response = {
          clientDataJSON: toText(credential.response.clientDataJSON),
          authenticatorData: toText(credential.response.authenticatorData),
          signature: toText(credential.response.signature),
        };
        if (credential.response.userHandle) {
          response.userHandle = toText(credential.response.userHandle);
        }
        return { ...common(credential), response };
      });
    },
  };
})();
