// faulty-fs: a FUSE pass-through filesystem that fails chosen operations,
// for the tests of what the coordinator does when its disk answers EIO (the
// kernels here have no device-mapper, so no dm-error target).
//
//   faulty-fs BACKING MOUNTPOINT RULES
//
// Mirrors BACKING at MOUNTPOINT, in the foreground, single-threaded. RULES is
// a file outside the mount, read again whenever it changes (replace it with a
// rename); each line is `OP TEXT ERRNO`: operation OP (open, create, read,
// write, fsync, rename, unlink, mkdir, truncate, or `any`) on a path holding
// TEXT fails with ERRNO (EIO, ENOSPC, EROFS, EDQUOT or a number). A missing
// or empty file injects nothing. Every injected failure is logged on stderr
// ("faulty-fs: write /job/passC_chunks.json.tmp: EIO"). SIGTERM unmounts.

#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Rule {
  std::string op;
  std::string text;
  int error = EIO;
};

std::string backing;
std::string rules_path;
std::vector<Rule> rules;
struct stat rules_seen {};

std::string Backing(const char* path) { return backing + path; }

int ErrnoNamed(const std::string& name) {
  static const std::map<std::string, int> kNames = {
      {"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT}, {"EACCES", EACCES}};
  if (auto it = kNames.find(name); it != kNames.end()) return it->second;
  return std::atoi(name.c_str());
}

// Reads the rules again when the file is another one than last time.
void Reload() {
  struct stat now {};
  if (::stat(rules_path.c_str(), &now) != 0) {
    rules.clear();
    rules_seen = {};
    return;
  }
  if (now.st_ino == rules_seen.st_ino && now.st_mtim.tv_nsec == rules_seen.st_mtim.tv_nsec &&
      now.st_mtim.tv_sec == rules_seen.st_mtim.tv_sec && now.st_size == rules_seen.st_size) {
    return;
  }
  rules_seen = now;
  rules.clear();
  std::ifstream in(rules_path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Rule rule;
    std::string error;
    if (fields >> rule.op >> rule.text >> error) {
      rule.error = ErrnoNamed(error);
      rules.push_back(rule);
    }
  }
  std::fprintf(stderr, "faulty-fs: %zu rules\n", rules.size());
}

// 0, or the -errno a rule injects into `op` on `path`.
int Fault(const char* op, const char* path, const char* other = nullptr) {
  Reload();
  for (const Rule& rule : rules) {
    if (rule.op != op && rule.op != "any") continue;
    const bool hit = std::strstr(path, rule.text.c_str()) != nullptr ||
                     (other != nullptr && std::strstr(other, rule.text.c_str()) != nullptr);
    if (!hit) continue;
    std::fprintf(stderr, "faulty-fs: %s %s: %s\n", op, path, strerrorname_np(rule.error));
    return -rule.error;
  }
  return 0;
}

int Errno(int result) { return result < 0 ? -errno : 0; }

int GetAttr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (fi != nullptr) return Errno(::fstat(static_cast<int>(fi->fh), st));
  return Errno(::lstat(Backing(path).c_str(), st));
}

int Access(const char* path, int mask) { return Errno(::access(Backing(path).c_str(), mask)); }

int ReadLink(const char* path, char* buf, size_t size) {
  const ssize_t n = ::readlink(Backing(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int ReadDir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*, fuse_readdir_flags) {
  DIR* dir = ::opendir(Backing(path).c_str());
  if (dir == nullptr) return -errno;
  while (dirent* entry = ::readdir(dir)) {
    struct stat st {};
    st.st_ino = entry->d_ino;
    st.st_mode = static_cast<mode_t>(entry->d_type) << 12;
    if (fill(buf, entry->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  ::closedir(dir);
  return 0;
}

int MkDir(const char* path, mode_t mode) {
  if (int fault = Fault("mkdir", path)) return fault;
  return Errno(::mkdir(Backing(path).c_str(), mode));
}

int Unlink(const char* path) {
  if (int fault = Fault("unlink", path)) return fault;
  return Errno(::unlink(Backing(path).c_str()));
}

int RmDir(const char* path) { return Errno(::rmdir(Backing(path).c_str())); }

int SymLink(const char* target, const char* path) { return Errno(::symlink(target, Backing(path).c_str())); }

int Rename(const char* from, const char* to, unsigned int flags) {
  if (int fault = Fault("rename", from, to)) return fault;
  return Errno(::renameat2(AT_FDCWD, Backing(from).c_str(), AT_FDCWD, Backing(to).c_str(), flags));
}

int Link(const char* from, const char* to) { return Errno(::link(Backing(from).c_str(), Backing(to).c_str())); }

int ChMod(const char* path, mode_t mode, fuse_file_info*) { return Errno(::chmod(Backing(path).c_str(), mode)); }

int ChOwn(const char* path, uid_t uid, gid_t gid, fuse_file_info*) {
  return Errno(::lchown(Backing(path).c_str(), uid, gid));
}

int Truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (int fault = Fault("truncate", path)) return fault;
  if (fi != nullptr) return Errno(::ftruncate(static_cast<int>(fi->fh), size));
  return Errno(::truncate(Backing(path).c_str(), size));
}

int UTimeNs(const char* path, const timespec times[2], fuse_file_info* fi) {
  if (fi != nullptr) return Errno(::futimens(static_cast<int>(fi->fh), times));
  return Errno(::utimensat(AT_FDCWD, Backing(path).c_str(), times, AT_SYMLINK_NOFOLLOW));
}

int Create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (int fault = Fault("create", path)) return fault;
  const int fd = ::open(Backing(path).c_str(), fi->flags, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int Open(const char* path, fuse_file_info* fi) {
  if (int fault = Fault("open", path)) return fault;
  const int fd = ::open(Backing(path).c_str(), fi->flags);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int Read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  if (int fault = Fault("read", path)) return fault;
  const ssize_t n = ::pread(static_cast<int>(fi->fh), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int Write(const char* path, const char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  if (int fault = Fault("write", path)) return fault;
  const ssize_t n = ::pwrite(static_cast<int>(fi->fh), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int StatFs(const char* path, struct statvfs* st) { return Errno(::statvfs(Backing(path).c_str(), st)); }

int Flush(const char*, fuse_file_info* fi) { return Errno(::close(::dup(static_cast<int>(fi->fh)))); }

int Release(const char*, fuse_file_info* fi) {
  ::close(static_cast<int>(fi->fh));
  return 0;
}

int FSync(const char* path, int datasync, fuse_file_info* fi) {
  if (int fault = Fault("fsync", path)) return fault;
  const int fd = static_cast<int>(fi->fh);
  return Errno(datasync != 0 ? ::fdatasync(fd) : ::fsync(fd));
}

int FSyncDir(const char* path, int, fuse_file_info*) {
  if (int fault = Fault("fsync", path)) return fault;
  const int fd = ::open(Backing(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -errno;
  const int result = Errno(::fsync(fd));
  ::close(fd);
  return result;
}

int FAllocate(const char* path, int mode, off_t offset, off_t length, fuse_file_info* fi) {
  if (int fault = Fault("write", path)) return fault;
  return Errno(::fallocate(static_cast<int>(fi->fh), mode, offset, length));
}

void* Init(fuse_conn_info*, fuse_config* config) {
  // Every lookup and attribute goes to the backing directory: renames
  // underneath must be seen at once.
  config->entry_timeout = 0;
  config->attr_timeout = 0;
  config->negative_timeout = 0;
  config->use_ino = 1;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: faulty-fs BACKING MOUNTPOINT RULES\n");
    return 2;
  }
  char resolved[PATH_MAX];
  if (::realpath(argv[1], resolved) == nullptr) {
    std::fprintf(stderr, "faulty-fs: %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  backing = resolved;
  rules_path = std::filesystem::absolute(argv[3]).string();  // fuse_main moves to /
  ::umask(0);
  fuse_operations ops{};
  ops.init = Init;
  ops.getattr = GetAttr;
  ops.access = Access;
  ops.readlink = ReadLink;
  ops.readdir = ReadDir;
  ops.mkdir = MkDir;
  ops.unlink = Unlink;
  ops.rmdir = RmDir;
  ops.symlink = SymLink;
  ops.rename = Rename;
  ops.link = Link;
  ops.chmod = ChMod;
  ops.chown = ChOwn;
  ops.truncate = Truncate;
  ops.utimens = UTimeNs;
  ops.create = Create;
  ops.open = Open;
  ops.read = Read;
  ops.write = Write;
  ops.statfs = StatFs;
  ops.flush = Flush;
  ops.release = Release;
  ops.fsync = FSync;
  ops.fsyncdir = FSyncDir;
  ops.fallocate = FAllocate;
  // Foreground, one thread (rules are read without locks), and no
  // permission checks of its own: the backing directory's apply.
  std::vector<char*> fuse_argv = {argv[0],
                                  argv[2],
                                  const_cast<char*>("-f"),
                                  const_cast<char*>("-s"),
                                  const_cast<char*>("-o"),
                                  const_cast<char*>("default_permissions,allow_other")};
  return fuse_main(static_cast<int>(fuse_argv.size()), fuse_argv.data(), &ops, nullptr);
}
