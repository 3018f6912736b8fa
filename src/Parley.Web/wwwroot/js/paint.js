// Resolves once the browser has painted the current frame (Chats/ChatView.razor): work started
// after it cannot hold back the screen the user is waiting for. requestAnimationFrame runs before
// the paint, the timeout after it; the second timeout bounds the wait where no frame comes (a
// hidden tab).
export function afterNextPaint() {
  return new Promise(resolve => {
    const bound = setTimeout(resolve, 100);
    requestAnimationFrame(() => setTimeout(() => { clearTimeout(bound); resolve(); }, 0));
  });
}
