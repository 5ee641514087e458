#pragma once
// The secret verbs (docs/cli.md, "Secrets"): `secret put SERVICE NAME` (the value from stdin),
// `secret list SERVICE`, `secret delete SERVICE NAME`; each one admin API call
// (docs/api.md, "Secrets"), with the exit codes and one-line failures of cli/commands.hpp.
//
// The value is never a command-line argument (a process listing would show it): put reads it
// from stdin, all of it, with ONE trailing newline stripped (so `echo v | rampart secret put`
// stores "v"); on a terminal it prompts "value for NAME: " on stderr with echo off. It is never
// printed, and the copy the CLI holds is wiped once sent.

#include "cli/commands.hpp"
#include "cli/verbs.hpp"

#include <cstddef>
#include <functional>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace rampart::cli {

// The most a value read from stdin may hold: the server's limit (secrets::kMaxValueBytes), so
// that a value too large fails here without being sent.
inline constexpr std::size_t kMaxSecretValueBytes = 64 * 1024;

struct SecretArgs {
  std::string service{};
  std::string name{};  // put and delete
};

// Reads the value of secret `name`: stdin, or the terminal's prompt. The seam unit tests replace.
using ValueReader = std::function<Result<std::string>(std::string_view name)>;

// All of `in` (at most kMaxSecretValueBytes, plus the newline) with one trailing '\n' stripped.
// kInvalidArgument for more, or for a read error.
Result<std::string> read_value(std::istream& in);

// The value from the process's stdin: read_value(std::cin), or on a terminal the prompt
// "value for NAME: " on stderr with echo off (termios) and one line read.
Result<std::string> read_value_from_stdin(std::string_view name);

int run_secret_put(Context& ctx, const SecretArgs& args, const ValueReader& read);
int run_secret_list(Context& ctx, const SecretArgs& args);
int run_secret_delete(Context& ctx, const SecretArgs& args);

// GET .../secrets's "secrets" array -> NAME VERSION UPDATED.
std::string secrets_table(const boost::json::value& secrets);

// `secret put`, `secret list` and `secret delete`, added to `app`. REQUIRES: `app` and `client`
// outlive the verbs' run functions.
std::vector<Verb> register_secret_verbs(CLI::App& app, ClientOptions& client);

}  // namespace rampart::cli
