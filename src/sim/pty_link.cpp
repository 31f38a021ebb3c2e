#include "pty_link.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace nodebridge::sim {

PtyLink::PtyLink(std::string link) : link_(std::move(link)) {
    auto fail = [&](const std::string& what) {
        error_ = what + ": " + std::strerror(errno);
        if (slave_ >= 0) close(slave_);
        if (master_ >= 0) close(master_);
        slave_ = master_ = -1;
    };
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ < 0) {
        fail("posix_openpt");
        return;
    }
    if (grantpt(master_) != 0 || unlockpt(master_) != 0) {
        fail("unlockpt");
        return;
    }
    std::array<char, 128> name{};
    if (ptsname_r(master_, name.data(), name.size()) != 0) {
        fail("ptsname");
        return;
    }
    slave_path_ = name.data();
    slave_ = open(slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave_ < 0) {
        fail("open " + slave_path_);
        return;
    }
    termios tio{};
    if (tcgetattr(slave_, &tio) != 0) {
        fail("tcgetattr");
        return;
    }
    cfmakeraw(&tio);
    if (tcsetattr(slave_, TCSANOW, &tio) != 0) {
        fail("tcsetattr");
        return;
    }
    const int flags = fcntl(master_, F_GETFL);
    fcntl(master_, F_SETFL, flags | O_NONBLOCK);

    struct stat st {};
    if (lstat(link_.c_str(), &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            errno = EEXIST;
            fail(link_ + " exists and is not a symlink");
            return;
        }
        unlink(link_.c_str());
    }
    if (symlink(slave_path_.c_str(), link_.c_str()) != 0) {
        fail("symlink " + link_);
        return;
    }
    linked_ = true;
}

PtyLink::~PtyLink() {
    if (linked_) {
        std::array<char, 256> target{};
        const ssize_t n = readlink(link_.c_str(), target.data(), target.size() - 1);
        if (n > 0 && slave_path_ == std::string(target.data(), static_cast<std::size_t>(n))) {
            unlink(link_.c_str());
        }
    }
    if (slave_ >= 0) close(slave_);
    if (master_ >= 0) close(master_);
}

}  // namespace nodebridge::sim
