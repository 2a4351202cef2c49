hello-world = Hallo Welt!
greeting = Hallochen { $name }!
        .placeholder = Hallo Freund!
about = Uber
