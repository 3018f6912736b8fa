// Web Push in the page (Session/ChatSession.Push.cs): registers service-worker.js and subscribes
// with the server's VAPID key. Returns PushState names to .NET.

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

// Registers the service worker (at every start: the browser fetches a changed one) and says where notifications stand.
export async function register() {
  if (!supported()) {
    return "Unavailable";
  }
  await navigator.serviceWorker.register("service-worker.js", { scope: "./" });
  if (Notification.permission === "denied") {
    return "Blocked";
  }
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  return subscription && Notification.permission === "granted" ? "On" : "Off";
}

// Asks for permission, then subscribes: [permission] when not granted, else
// ["granted", endpoint, p256dh, auth] with the keys base64url as the browser gives them.
export async function subscribe(vapidKey) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    return [permission];
  }
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: vapidKey });
  const json = subscription.toJSON();
  return [permission, json.endpoint, json.keys.p256dh, json.keys.auth];
}
