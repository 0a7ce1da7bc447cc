package io.github.adahessian4j.distributed;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;

/** The c10d backends a rendezvous forms: Gloo (and its device choice) and NCCL. */
final class Backends {
  private Backends() {}

  static org.bytedeco.pytorch.Backend gloo(
      Rendezvous rendezvous,
      TCPStore store,
      Map<String, String> env,
      List<String> interfaces,
      String hostname,
      long deadline,
      Duration rdv) {
    List<String> names = interfaces;
    String fromEnv = env.get("GLOO_SOCKET_IFNAME");
    if (names == null && fromEnv != null && !fromEnv.isBlank()) {
      names = List.of(fromEnv.strip().split("\\s*,\\s*"));
    }
    String device;
    try (PointerScope scope = new PointerScope()) {
      GlooDeviceVector devices = new GlooDeviceVector();
      if (names != null && !names.isEmpty()) {
        for (String n : names) {
          devices.push_back(ProcessGroupGloo.createDeviceForInterface(n));
        }
        device = "interface " + String.join(",", names);
      } else if (hostname != null || isLoopback(rendezvous.address)) {
        String h = hostname != null ? hostname : "127.0.0.1";
        devices.push_back(ProcessGroupGloo.createDeviceForHostname(h));
        device = "address " + h;
      } else {
        devices.push_back(ProcessGroupGloo.createDefaultDevice());
        device = "this host's address (" + Rendezvous.hostName() + ")";
      }
      long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
      ProcessGroupGloo.Options o = new ProcessGroupGloo.Options(new Milliseconds(left));
      o.devices(devices);
      try {
        return C10d.keep(new ProcessGroupGloo(store, rendezvous.rank, rendezvous.worldSize, o));
      } catch (RuntimeException e) {
        throw rendezvous.failure(
            "rank "
                + rendezvous.rank
                + " of "
                + rendezvous.worldSize
                + " could not connect Gloo to the other ranks on "
                + device
                + " within the rendezvous timeout of "
                + rdv.toMillis()
                + " ms (rendezvous "
                + rendezvous.address
                + ":"
                + rendezvous.port
                + "): across machines every rank must reach every other one on that "
                + "address; set GLOO_SOCKET_IFNAME to the interface of the network they share",
            rdv,
            e);
      }
    } catch (RuntimeException e) {
      if (e instanceof RendezvousException) {
        throw e;
      }
      throw rendezvous.failure(
          "rank "
              + rendezvous.rank
              + " of "
              + rendezvous.worldSize
              + " could not make its Gloo device (interfaces "
              + names
              + ", hostname "
              + hostname
              + ")",
          rdv,
          e);
    }
  }

  static org.bytedeco.pytorch.Backend nccl(
      Rendezvous rendezvous, TCPStore store, Duration timeout) {
    try {
      Loader.load(org.bytedeco.pytorch.global.torch_nccl.class);
    } catch (Throwable t) {
      throw rendezvous.failure(
          "the NCCL backend needs bytedeco's linux-x86_64-gpu natives of org.bytedeco:pytorch "
              + "(build with -Pgpu), which are not on the class path",
          timeout,
          t);
    }
    try (PointerScope scope = new PointerScope()) {
      org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options o =
          new org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options();
      o.timeout(C10d.millis(timeout));
      return C10d.keep(
          new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(
              store, rendezvous.rank, rendezvous.worldSize, o));
    } catch (RuntimeException e) {
      throw rendezvous.failure(
          "rank "
              + rendezvous.rank
              + " of "
              + rendezvous.worldSize
              + " could not create its NCCL process group",
          timeout,
          e);
    }
  }

  private static boolean isLoopback(String address) {
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
