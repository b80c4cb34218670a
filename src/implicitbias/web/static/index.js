IB.nav("/");
