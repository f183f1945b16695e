// A minimal Kafka Streams application for the integration tests: it copies
// one topic to another, one record at a time, and commits what it copied.
// While the gate file exists it holds the first record it is given, so the
// group's committed offsets stay where they are and the lag behind newly
// produced records is fixed and known (nothing more is processed or
// committed). The member stays in the group meanwhile (max.poll.interval.ms
// is raised to 10 minutes).
//
// Usage: KlagStreamsApp BOOTSTRAP APPLICATION_ID INPUT OUTPUT PROTOCOL GATE STATE_DIR
//   PROTOCOL: classic, or streams (KIP-1071; Kafka Streams 4.1 and later)
// Prints "state RUNNING" (and every other state change) on stdout.
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

public final class KlagStreamsApp {
  private static volatile boolean closing = false;

  public static void main(String[] args) throws Exception {
    if (args.length != 7) {
      System.err.println("usage: KlagStreamsApp BOOTSTRAP APPLICATION_ID INPUT OUTPUT PROTOCOL GATE STATE_DIR");
      System.exit(2);
    }
    final Path gate = Path.of(args[5]);
    Properties p = new Properties();
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    p.put(StreamsConfig.STATE_DIR_CONFIG, args[6]);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArray().getClass());
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArray().getClass());
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.put(StreamsConfig.consumerPrefix("max.poll.interval.ms"), 600000);
    if (!args[4].equals("classic")) p.put("group.protocol", args[4]);

    StreamsBuilder builder = new StreamsBuilder();
    builder.<byte[], byte[]>stream(args[2]).peek((k, v) -> {
      try {
        while (!closing && Files.exists(gate)) Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }).to(args[3]);

    KafkaStreams streams = new KafkaStreams(builder.build(), p);
    CountDownLatch done = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      System.out.println("state " + now);
      System.out.flush();
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) done.countDown();
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      closing = true;  // lets a held record go, or close() would wait for it
      streams.close(Duration.ofSeconds(10));
      done.countDown();
    }));
    streams.start();
    done.await();
  }
}
