// Readiness probe used by scripts/kafka-local: polls a broker with Kafka's own
// AdminClient until it answers a Metadata request (describeCluster + listTopics)
// or a deadline passes. Compiled once per Kafka version against the cached jars.
//
//   java -cp "$LIBS/*:$PROBE_DIR" KafkaReady 127.0.0.1:19092 60000
//
// Exit 0 and one line "ready ..." on success, exit 1 on timeout.

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;

public final class KafkaReady {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: KafkaReady HOST:PORT DEADLINE_MS");
            System.exit(2);
        }
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[1]));

        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "sagasim-kafka-ready");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "250");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");

        String last = "no attempt";
        Admin admin = Admin.create(p);
        try {
            while (System.nanoTime() < deadline) {
                try {
                    DescribeClusterResult c = admin.describeCluster();
                    String clusterId = c.clusterId().get(3, TimeUnit.SECONDS);
                    int nodes = c.nodes().get(3, TimeUnit.SECONDS).size();
                    int topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
                            .names().get(3, TimeUnit.SECONDS).size();
                    if (nodes > 0) {
                        System.out.println("ready cluster_id=" + clusterId + " nodes=" + nodes
                                + " topics=" + topics);
                        return;
                    }
                    last = "metadata has no brokers yet";
                } catch (Exception e) {
                    Throwable t = e.getCause() != null ? e.getCause() : e;
                    last = t.getClass().getSimpleName() + ": " + t.getMessage();
                }
                Thread.sleep(200);
            }
        } finally {
            admin.close(Duration.ofSeconds(2));
        }
        System.err.println("not ready before deadline: " + last);
        System.exit(1);
    }
}
