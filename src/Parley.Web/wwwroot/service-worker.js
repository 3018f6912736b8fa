// Parley Web's service worker: wakes when the server sends a Web Push while no tab is open, and
// shows "New message" and nothing else. A push's plaintext is always {"type":"wake"} (the server
// never learns what it would say); the messages themselves arrive encrypted when the app connects.
// Caches nothing: the app's files come fresh (index.html) or fingerprinted from the server.

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", event => event.waitUntil(self.clients.claim()));

self.addEventListener("push", event => {
  // One notification however many pushes arrive: the tag replaces the previous one.
  event.waitUntil(self.registration.showNotification("New message", { tag: "parley", icon: "icon.svg" }));
});

self.addEventListener("notificationclick", event => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(tabs =>
    tabs.length > 0 ? tabs[0].focus() : self.clients.openWindow("./")));
});
