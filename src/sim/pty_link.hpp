#pragma once
// A pseudo-terminal whose slave side is reachable at a chosen path (a symlink), as if a
// serial adapter were plugged in there. The simulator talks on the master side.

#include <string>

namespace nodebridge::sim {

class PtyLink {
  public:
    // Opens a raw pty pair and symlinks its slave at `link`, replacing an existing symlink
    // (but never a regular file). The slave is kept open too, so a client may close and
    // reopen it without the master seeing a hangup. ok() is false (see error()) on failure.
    explicit PtyLink(std::string link);
    // Removes the link if it still points at this pty, and closes both sides.
    ~PtyLink();
    PtyLink(const PtyLink&) = delete;
    PtyLink& operator=(const PtyLink&) = delete;

    bool ok() const { return master_ >= 0; }
    const std::string& error() const { return error_; }
    int master_fd() const { return master_; }
    const std::string& slave_path() const { return slave_path_; }
    const std::string& link() const { return link_; }

  private:
    std::string link_;
    std::string slave_path_;
    std::string error_;
    int master_ = -1;
    int slave_ = -1;
    bool linked_ = false;
};

}  // namespace nodebridge::sim
