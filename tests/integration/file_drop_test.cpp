// File drop through the real broker (issue 4): a legacy jobcenter drops its message as a file in
// its inbox folder; the broker takes it when it is complete (renamed in), writes its answer next
// to it, moves it to done/, and delivers to a psychiatry system whose "URL" is an outbound folder,
// written atomically.
#include <filesystem>
#include <fstream>

#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

namespace fs = std::filesystem;

class FileDrop : public BrokerFixture {
 protected:
  FileDrop() {
    inbox = dir.path() + "/jc-inbox";
    outbox = dir.path() + "/psy-outbox";
    fs::create_directories(inbox);
    fs::create_directories(outbox);
    config["endpoints"][0]["inbox"] = inbox;
    config["endpoints"][2]["url"] = "file://" + outbox;
  }
  // Written under a dot name, then renamed in: the contract for writers into an inbox.
  void drop(const std::string& name, const std::string& bytes) {
    const std::string tmp = inbox + "/." + name;
    std::ofstream(tmp, std::ios::binary) << bytes;
    fs::rename(tmp, inbox + "/" + name);
  }
  static std::vector<fs::path> files_in(const std::string& folder) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder, ec))
      if (e.is_regular_file() && e.path().filename().string().front() != '.')
        out.push_back(e.path());
    return out;
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string inbox, outbox;
};

TEST_F(FileDrop, AFileInTheInboxIsAnsweredBesideItAndDeliveredIntoAFolder) {
  start();
  const Envelope request = make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now());
  drop("req1.xml", encode_envelope(request));
  // The answer appears beside the file's old place; the file itself moves to done/.
  ASSERT_TRUE(eventually([&] { return fs::exists(inbox + "/req1.xml.receipt.xml"); }));
  ASSERT_TRUE(eventually([&] { return fs::exists(inbox + "/done/req1.xml"); }));
  EXPECT_FALSE(fs::exists(inbox + "/req1.xml"));
  auto acceptance = decode_acceptance(read(inbox + "/req1.xml.receipt.xml"));
  ASSERT_TRUE(acceptance);
  EXPECT_EQ(acceptance->letter_ids, std::vector<std::string>{"REQ1"});
  // Psychiatry's outbound folder gets the message, complete.
  ASSERT_TRUE(eventually([&] { return files_in(outbox).size() == 1; }));
  auto delivered = decode_envelope(read(files_in(outbox).front()));
  ASSERT_TRUE(delivered);
  EXPECT_EQ(*delivered, request);
  EXPECT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "delivered"; }));

  // A refused file gets its negative receipt beside it and goes to refused/.
  Envelope stray = make_certificate_request(jc_party, make_party("579000077777", "1", "Ukendt"),
                                            "E2", "REQ2", clock.now());
  drop("req2.xml", encode_envelope(stray));
  ASSERT_TRUE(eventually([&] { return fs::exists(inbox + "/refused/req2.xml"); }));
  auto nr = decode_envelope(read(inbox + "/req2.xml.receipt.xml"));
  ASSERT_TRUE(nr);
  EXPECT_EQ(std::get<NegativeReceipt>(nr->letters.front().body).code, RefuseCode::kUnknownLocation);
}

}  // namespace
}  // namespace sektorbro::testing
