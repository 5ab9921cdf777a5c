#include "server/http/exposition.h"

#include <gtest/gtest.h>

#include "server/http/metrics_page.h"

namespace sluice::server::metrics {
namespace {

TEST(exposition, writes_help_type_and_samples_in_text_format_0_0_4) {
  exposition out;
  out.family("sluice_things_total", metric_type::counter, "Things seen.");
  out.sample("sluice_things_total", 3);
  out.family("sluice_depth", metric_type::gauge, "Depth now.");
  out.sample("sluice_depth", {{"queue", "a"}, {"shard", "0"}}, 0);
  out.sample("sluice_depth", {{"queue", "b"}, {"shard", "1"}}, 18446744073709551615ull);
  EXPECT_EQ(out.text(),
            "# HELP sluice_things_total Things seen.\n"
            "# TYPE sluice_things_total counter\n"
            "sluice_things_total 3\n"
            "# HELP sluice_depth Depth now.\n"
            "# TYPE sluice_depth gauge\n"
            "sluice_depth{queue=\"a\",shard=\"0\"} 0\n"
            "sluice_depth{queue=\"b\",shard=\"1\"} 18446744073709551615\n");
}

TEST(exposition, escapes_label_values_and_help_text) {
  exposition out;
  out.family("x_total", metric_type::counter, "a \\ back\nslash \"quoted\"");
  out.sample("x_total", {{"l", "q\"uote \\ new\nline"}}, 1);
  EXPECT_EQ(out.text(),
            "# HELP x_total a \\\\ back\\nslash \"quoted\"\n"
            "# TYPE x_total counter\n"
            "x_total{l=\"q\\\"uote \\\\ new\\nline\"} 1\n");
}

TEST(exposition_death, a_counter_without_total_suffix_is_a_bug) {
  exposition out;
  EXPECT_DEATH(out.family("things", metric_type::counter, "h"), "_total");
}

TEST(exposition_death, a_bad_metric_name_is_a_bug) {
  exposition out;
  EXPECT_DEATH(out.family("1abc", metric_type::gauge, "h"), "bad metric name");
  EXPECT_DEATH(out.family("a-b", metric_type::gauge, "h"), "bad metric name");
}

TEST(metrics_page, names_every_metric_after_its_kafka_mbean_and_counts_requests_by_version) {
  totals t;
  t.bytes_in = 100;
  t.bytes_out = 200;
  t.messages_in = 3;
  t.produce_conversions = 4;
  t.fetch_conversions = 5;
  t.requests[0][9] = 7;   // Produce v9
  t.requests[18][3] = 1;  // ApiVersions v3
  broker_gauges g{2, 1, 6, 4};
  std::string page = render_metrics_page(t, g);
  for (const char* line : {
           "# TYPE kafka_server_brokertopicmetrics_bytes_in_total counter\n",
           "\nkafka_server_brokertopicmetrics_bytes_in_total 100\n",
           "\nkafka_server_brokertopicmetrics_bytes_out_total 200\n",
           "\nkafka_server_brokertopicmetrics_messages_in_total 3\n",
           "\nkafka_server_brokertopicmetrics_produce_message_conversions_total 4\n",
           "\nkafka_server_brokertopicmetrics_fetch_message_conversions_total 5\n",
           "\nkafka_network_requestmetrics_requests_total{request=\"Produce\",version=\"9\"} 7\n",
           "\nkafka_network_requestmetrics_requests_total{request=\"ApiVersions\",version=\"3\"} "
           "1\n",
           "# TYPE kafka_server_socketservermetrics_connection_count gauge\n",
           "\nkafka_server_socketservermetrics_connection_count 2\n",
           "\nkafka_controller_kafkacontroller_global_topic_count 1\n",
           "\nkafka_controller_kafkacontroller_global_partition_count 6\n",
           "\nkafka_coordinator_group_groupmetadatamanager_num_groups 4\n",
       }) {
    EXPECT_NE(page.find(line), std::string::npos) << line << "\nnot in\n" << page;
  }
  // Only the versions that were used get a sample.
  EXPECT_EQ(page.find("version=\"8\""), std::string::npos) << page;
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(page.back(), '\n');
}

TEST(metrics_page, leaves_out_the_group_count_when_it_is_not_known) {
  std::string page = render_metrics_page(totals{}, broker_gauges{0, 0, 0, std::nullopt});
  EXPECT_NE(page.find("# TYPE kafka_coordinator_group_groupmetadatamanager_num_groups gauge\n"),
            std::string::npos);
  EXPECT_EQ(page.find("\nkafka_coordinator_group_groupmetadatamanager_num_groups "),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::server::metrics
