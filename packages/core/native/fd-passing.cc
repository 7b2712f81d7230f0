// Passing listening sockets between unrelated processes for graceful upgrades (Pingora's
// protocol): an AF_UNIX stream socket, one sendmsg carrying the address list as bytes and the
// listening fds as SCM_RIGHTS. Node can only hand sockets to its own children, hence this addon.
// Every call is synchronous and bounded: waits go through poll() with a deadline, never through a
// blocking accept/recv/send. Errors are thrown with `errno` and `syscall`; the TypeScript loader
// turns them into Node-style errors with a `code`.
#include <napi.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kAbi = 1;
// Pingora reads the address list into a 2048-byte buffer and accepts at most 32 fds; the
// TypeScript layer enforces those limits, these are only the bounds of what this code handles.
constexpr size_t kMaxPayload = 2048;
constexpr size_t kMaxFds = 32;
// A sender that connected must also get its bytes through, even when it connected just before
// the receiver's deadline: the message is read within at least this long.
constexpr int64_t kMinReadWindowMs = 1000;
// Sending 2 KiB to a fresh socket never fills its buffer; this only bounds a stuck receiver.
constexpr int64_t kSendTimeoutMs = 5000;

#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path = "") {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* what) {
  Napi::TypeError::New(env, std::string("fd passing: ") + what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// close() keeping the errno of the failure being reported.
void CloseQuietly(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

bool SetFlags(int fd, bool nonblocking) {
  int fdFlags = fcntl(fd, F_GETFD);
  if (fdFlags < 0 || fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) < 0) return false;
  if (!nonblocking) return true;
  int flFlags = fcntl(fd, F_GETFL);
  return flFlags >= 0 && fcntl(fd, F_SETFL, flFlags | O_NONBLOCK) >= 0;
}

int NewSocket() {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (!SetFlags(fd, true)) {
    CloseQuietly(fd);
    return -1;
  }
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
  return fd;
}

// Fills a sockaddr_un; false with errno set when the path does not fit or is not a plain path.
bool FillAddr(const std::string& path, sockaddr_un* addr, socklen_t* len) {
  if (path.empty() || path.find('\0') != std::string::npos) {
    errno = EINVAL;
    return false;
  }
  if (path.size() >= sizeof(addr->sun_path)) {
    errno = ENAMETOOLONG;
    return false;
  }
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// 1 when `events` are ready, 0 when the deadline passed, -1 with errno on failure.
int PollUntil(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - NowMs();
    if (left < 0) left = 0;
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(left > INT_MAX ? INT_MAX : left));
    if (r > 0) return 1;
    if (r == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

bool GetFd(const Napi::Value& v, int* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= INT_MAX) || d != static_cast<int>(d)) return false;
  *out = static_cast<int>(d);
  return true;
}

Napi::Value ListenUpgradeSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  sockaddr_un addr;
  socklen_t len;
  if (!FillAddr(path, &addr, &len)) return ThrowErrno(env, errno, "bind", path);
  // A socket file left by an earlier run would make bind fail with EADDRINUSE.
  unlink(path.c_str());
  int fd = NewSocket();
  if (fd < 0) return ThrowErrno(env, errno, "socket", path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    CloseQuietly(fd);
    return ThrowErrno(env, errno, "bind", path);
  }
  // The old process may run as another user (Pingora makes the socket world-writable too).
  const char* failed = nullptr;
  if (chmod(path.c_str(), 0666) < 0) {
    failed = "chmod";
  } else if (listen(fd, 8) < 0) {
    failed = "listen";
  }
  if (failed != nullptr) {
    int err = errno;
    close(fd);
    unlink(path.c_str());
    return ThrowErrno(env, err, failed, path);
  }
  return Napi::Number::New(env, fd);
}

// Reads the one message of an accepted connection into `payload` and `fds`; false with errno set.
bool ReadMessage(int conn, int64_t deadline, std::string* payload, std::vector<int>* fds) {
  char data[kMaxPayload + 1];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  for (;;) {
    int ready = PollUntil(conn, POLLIN, deadline);
    if (ready <= 0) {
      if (ready == 0) errno = ETIMEDOUT;
      return false;
    }
    iovec iov{data, sizeof(data)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
#ifdef MSG_CMSG_CLOEXEC
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
#else
    ssize_t n = recvmsg(conn, &msg, 0);
#endif
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return false;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* p = CMSG_DATA(c);
      for (size_t i = 0; i < count; i++) {
        int fd;
        std::memcpy(&fd, p + i * sizeof(int), sizeof(int));
#ifndef MSG_CMSG_CLOEXEC
        SetFlags(fd, false);
#endif
        fds->push_back(fd);
      }
    }
    bool bad = n == 0 || static_cast<size_t>(n) > kMaxPayload || (msg.msg_flags & MSG_CTRUNC) != 0;
    if (bad) {
      for (int fd : *fds) close(fd);
      fds->clear();
      errno = n == 0 ? ECONNRESET : EMSGSIZE;
      return false;
    }
    payload->assign(data, static_cast<size_t>(n));
    return true;
  }
}

Napi::Value AcceptAndReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int listenFd;
  if (info.Length() < 2 || !GetFd(info[0], &listenFd)) return ThrowType(env, "listenFd must be an fd");
  if (!info[1].IsNumber()) return ThrowType(env, "timeoutMs must be a number");
  double timeout = info[1].As<Napi::Number>().DoubleValue();
  if (!(timeout >= 0)) return ThrowType(env, "timeoutMs must be >= 0");
  if (timeout > 86400000) timeout = 86400000;
  int64_t deadline = NowMs() + static_cast<int64_t>(timeout);
  int conn;
  for (;;) {
    int ready = PollUntil(listenFd, POLLIN, deadline);
    if (ready < 0) return ThrowErrno(env, errno, "poll");
    if (ready == 0) return env.Undefined();
    conn = accept(listenFd, nullptr, nullptr);
    if (conn >= 0) break;
    // Another acceptor won the race, or the peer gave up: keep waiting until the deadline.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR) continue;
    return ThrowErrno(env, errno, "accept");
  }
  if (!SetFlags(conn, true)) {
    CloseQuietly(conn);
    return ThrowErrno(env, errno, "fcntl");
  }
  int64_t readDeadline = deadline > NowMs() + kMinReadWindowMs ? deadline : NowMs() + kMinReadWindowMs;
  std::string payload;
  std::vector<int> fds;
  bool ok = ReadMessage(conn, readDeadline, &payload, &fds);
  CloseQuietly(conn);
  if (!ok) return ThrowErrno(env, errno, "recvmsg");
  Napi::Object out = Napi::Object::New(env);
  out.Set("payload", Napi::String::New(env, payload));
  Napi::Array list = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) list.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
  out.Set("fds", list);
  return out;
}

// Writes all of `data` (fds attached to the first byte); false with errno set.
bool SendAll(int fd, const std::string& data, const std::vector<int>& fds) {
  std::vector<char> control(fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size()));
  size_t sent = 0;
  int64_t deadline = NowMs() + kSendTimeoutMs;
  while (sent < data.size()) {
    iovec iov{const_cast<char*>(data.data()) + sent, data.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0 && !fds.empty()) {
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = sendmsg(fd, &msg, kSendFlags);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    int ready = PollUntil(fd, POLLOUT, deadline);
    if (ready <= 0) {
      if (ready == 0) errno = ETIMEDOUT;
      return false;
    }
  }
  return true;
}

Napi::Value ConnectAndSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString()) return ThrowType(env, "path must be a string");
  if (!info[1].IsString()) return ThrowType(env, "payload must be a string");
  if (!info[2].IsArray()) return ThrowType(env, "fds must be an array");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string payload = info[1].As<Napi::String>().Utf8Value();
  Napi::Array list = info[2].As<Napi::Array>();
  if (payload.empty() || payload.size() > kMaxPayload) return ThrowType(env, "payload must be 1 to 2048 bytes");
  if (list.Length() > kMaxFds) return ThrowType(env, "at most 32 fds can be sent");
  std::vector<int> fds(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    if (!GetFd(list.Get(i), &fds[i])) return ThrowType(env, "fds must hold non-negative integers");
  }
  sockaddr_un addr;
  socklen_t len;
  if (!FillAddr(path, &addr, &len)) return ThrowErrno(env, errno, "connect", path);
  int fd = NewSocket();
  if (fd < 0) return ThrowErrno(env, errno, "socket", path);
  // Non-blocking: a full backlog answers EAGAIN (retried by the caller) instead of blocking.
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    bool ok = false;
    if (errno == EINPROGRESS) {
      int err = 0;
      socklen_t errLen = sizeof(err);
      int ready = PollUntil(fd, POLLOUT, NowMs() + kSendTimeoutMs);
      if (ready == 0) errno = ETIMEDOUT;
      if (ready > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errLen) == 0) {
        ok = err == 0;
        errno = err;
      }
    }
    if (!ok) {
      CloseQuietly(fd);
      return ThrowErrno(env, errno, "connect", path);
    }
  }
  if (!SendAll(fd, payload, fds)) {
    CloseQuietly(fd);
    return ThrowErrno(env, errno, "sendmsg", path);
  }
  close(fd);
  return env.Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (info.Length() < 1 || !GetFd(info[0], &fd)) return ThrowType(env, "fd must be a non-negative integer");
  // EINTR still released the fd on Linux: retrying could close a descriptor reused meanwhile.
  if (close(fd) < 0 && errno != EINTR) return ThrowErrno(env, errno, "close");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Number::New(env, kAbi));
  exports.Set("listenUpgradeSocket", Napi::Function::New(env, ListenUpgradeSocket, "listenUpgradeSocket"));
  exports.Set("acceptAndReceive", Napi::Function::New(env, AcceptAndReceive, "acceptAndReceive"));
  exports.Set("connectAndSend", Napi::Function::New(env, ConnectAndSend, "connectAndSend"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  return exports;
}

}  // namespace

NODE_API_MODULE(pingora_fd_passing, Init)
